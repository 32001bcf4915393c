//! `salon-bench seed`: fills a Salon database directly, before its server
//! starts, with what registering over HTTP would take too long to make:
//! thousands of users and a room with millions of messages.
//!
//! Users are named `seed0`, `seed1`… and share one password hash computed
//! with argon2's smallest parameters: a hash records its own parameters, so
//! the server checks these in microseconds and the generator can sign
//! 19,000 users in within seconds. Never do this outside a benchmark.

use crate::{Error, PASSWORD};
use app::domain::{RoomName, Username, Visibility};
use app::store::{NewUser, Store};
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde_json::json;
use std::time::Instant;

/// The prefix of seeded usernames.
pub const USER_PREFIX: &str = "seed";
/// The seeded room with a long history.
pub const HISTORY_ROOM: &str = "history";
/// Members of the history room (the first seeded users).
const HISTORY_MEMBERS: usize = 100;
/// Messages inserted per statement.
const CHUNK: i64 = 100_000;

pub struct SeedOptions {
    pub database: String,
    pub users: usize,
    pub history: i64,
    /// Rooms of `room_messages` messages each, for searches across rooms.
    pub rooms: usize,
    pub room_messages: i64,
}

impl SeedOptions {
    pub fn parse(args: &[String]) -> Result<Self, Error> {
        let mut options =
            SeedOptions { database: String::new(), users: 1000, history: 0, rooms: 0, room_messages: 1000 };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--database" => options.database = value()?,
                "--users" => options.users = value()?.parse()?,
                "--history" => options.history = value()?.parse()?,
                "--rooms" => options.rooms = value()?.parse()?,
                "--room-messages" => options.room_messages = value()?.parse()?,
                other => return Err(format!("seed: unknown flag {other} (see --help)").into()),
            }
        }
        if options.database.is_empty() {
            return Err("seed needs --database sqlite://PATH".into());
        }
        Ok(options)
    }
}

pub async fn seed(options: SeedOptions) -> Result<(), Error> {
    let started = Instant::now();
    let store = Store::open(&options.database).await?;
    let params = Params::new(Params::MIN_M_COST, Params::MIN_T_COST, 1, None).map_err(|e| e.to_string())?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
        .map_err(|e| e.to_string())?
        .to_string();
    let mut ids = Vec::with_capacity(options.users);
    for i in 0..options.users {
        let username = Username::parse(&format!("{USER_PREFIX}{i}")).map_err(|p| format!("{p:?}"))?;
        let email = format!("{}@example.com", username.as_str());
        let user = store
            .insert_user(NewUser {
                username: username.as_str(),
                username_key: &username.key(),
                email: &email,
                email_key: &email,
                password_hash: &hash,
                join_code: None,
            })
            .await
            .map_err(|e| format!("inserting {}: {e:?}", username.as_str()))?;
        let user = user.made().ok_or("no join link was asked for")?;
        ids.push(user.id);
    }
    let users_in = started.elapsed();

    let mut room = None;
    if options.history > 0 {
        let owner = *ids.first().ok_or("--history needs at least one user")?;
        let members = ids.len().min(HISTORY_MEMBERS);
        let first = owner.0;
        if ids.iter().take(members).enumerate().any(|(k, id)| id.0 != first + k as i64) {
            return Err("seed into an empty database (seeded user ids must be consecutive)".into());
        }
        let name = RoomName::parse(HISTORY_ROOM).map_err(|p| format!("{p:?}"))?;
        let id = store
            .create_room(owner, name.as_str(), &name.key(), "10 million messages", Visibility::Public)
            .await
            .map_err(|e| format!("creating the history room: {e:?}"))?;
        for user in ids.iter().skip(1).take(HISTORY_MEMBERS - 1) {
            store.join_room(id, *user).await?;
        }
        fill(&store, id, first, members as i64, options.history).await?;
        room = Some(id);
    }
    let mut search_rooms = Vec::new();
    if options.rooms > 0 {
        let owner = *ids.first().ok_or("--rooms needs at least one user")?;
        let members = ids.len().min(HISTORY_MEMBERS);
        for n in 0..options.rooms {
            let name = RoomName::parse(&format!("search {n}")).map_err(|p| format!("{p:?}"))?;
            let id = store.create_room(owner, name.as_str(), &name.key(), "", Visibility::Public).await?;
            for user in ids.iter().skip(1).take(members - 1) {
                store.join_room(id, *user).await?;
            }
            fill(&store, id, owner.0, members as i64, options.room_messages).await?;
            search_rooms.push(id);
        }
    }
    if store.engine() == app::store::Engine::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()).await?;
    }
    let result = json!({
        "users": ids.len(),
        "search_rooms": search_rooms.len(),
        "users_in_s": users_in.as_secs_f64(),
        "history_room": room,
        "history_messages": options.history,
        "seeded_in_s": started.elapsed().as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}

/// Words the seeded messages are made of, one picked per message by its
/// number: a search for one finds about one message in `WORDS.len()`.
const WORDS: [&str; 16] = [
    "apple", "river", "garden", "window", "planet", "coffee", "music", "winter", "bridge", "forest",
    "silver", "rocket", "harbor", "meadow", "canyon", "violet",
];

/// `count` messages in room `room`, straight into the tables in chunks,
/// authored by the `members` users from `first` in turn, as the writer
/// would store them: searchable, every fifth with reactions, every
/// seventh a reply. The server's writer would take minutes for this.
async fn fill(
    store: &Store,
    room: app::domain::RoomId,
    first: i64,
    members: i64,
    count: i64,
) -> Result<(), Error> {
    let pool = store.pool();
    let words =
        WORDS.iter().enumerate().map(|(n, w)| format!("WHEN {n} THEN '{w}'")).collect::<Vec<_>>().join(" ");
    // PostgreSQL's search ids come from the writer's sequence as each row
    // is written (see the migration `0011_search_ids`): numbering them
    // after, by an update, would leave every row and index entry twice
    // until a `VACUUM FULL` (measured: a search 30 times slower).
    // SQLite's are numbered below, from the highest so far.
    let search_id = match store.engine() {
        app::store::Engine::Postgres => "nextval('message_search_ids')",
        app::store::Engine::Sqlite => "NULL",
    };
    let mut from = 1;
    while from <= count {
        let to = (from + CHUNK - 1).min(count);
        sqlx::query(&format!(
            "WITH RECURSIVE n(seq) AS (SELECT $1 UNION ALL SELECT seq + 1 FROM n WHERE seq < $2)
             INSERT INTO messages (room_id, seq, author_id, client_id, body, html, sent_at, reply_to, search_id)
             SELECT $3, seq, $4 + seq % $5, 'seed-' || $3 || '-' || seq,
                    'Seeded message number ' || seq || ' about the ' || (CASE seq % 16 {words} END) || ', with some words after it.',
                    '<p>Seeded message number ' || seq || ', with some words after it.</p>',
                    $6 + seq, CASE WHEN seq % 7 = 0 AND seq > 3 THEN seq - 3 END, {search_id} FROM n"
        ))
        .bind(from)
        .bind(to)
        .bind(room)
        .bind(first)
        .bind(members)
        .bind(app::store::now_millis() - count)
        .execute(pool)
        .await?;
        for (emoji, offset) in [("👍", 0), ("🎉", 1), ("❤️", 2)] {
            sqlx::query(
                "INSERT INTO reactions (room_id, message_seq, emoji, user_id, reacted_at)
                 SELECT room_id, seq, $4, $5 + (seq + $6) % $7, sent_at FROM messages
                 WHERE room_id = $1 AND seq BETWEEN $2 AND $3 AND seq % 5 = 0",
            )
            .bind(room)
            .bind(from)
            .bind(to)
            .bind(emoji)
            .bind(first)
            .bind(offset)
            .bind(members)
            .execute(pool)
            .await?;
        }
        if store.engine() == app::store::Engine::Sqlite {
            // Search ids in commit order, as the message writer gives them.
            let searched: i64 = sqlx::query_scalar(
                "SELECT COALESCE((SELECT search_id FROM messages WHERE search_id IS NOT NULL
                                  ORDER BY search_id DESC LIMIT 1), 0)",
            )
            .fetch_one(pool)
            .await?;
            sqlx::query("UPDATE messages SET search_id = seq - $2 + 1 + $4 WHERE room_id = $1 AND seq BETWEEN $2 AND $3")
                .bind(room)
                .bind(from)
                .bind(to)
                .bind(searched)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO message_search (rowid, body, room)
                 SELECT search_id, body, 'r' || room_id FROM messages
                 WHERE room_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY search_id",
            )
            .bind(room)
            .bind(from)
            .bind(to)
            .execute(pool)
            .await?;
        }
        from = to + 1;
    }
    sqlx::query("UPDATE rooms SET last_seq = $2, last_message_seq = $2 WHERE id = $1")
        .bind(room)
        .bind(count)
        .execute(pool)
        .await?;
    Ok(())
}
