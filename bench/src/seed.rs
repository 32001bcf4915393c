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
}

impl SeedOptions {
    pub fn parse(args: &[String]) -> Result<Self, Error> {
        let mut options = SeedOptions { database: String::new(), users: 1000, history: 0 };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--database" => options.database = value()?,
                "--users" => options.users = value()?.parse()?,
                "--history" => options.history = value()?.parse()?,
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
            })
            .await
            .map_err(|e| format!("inserting {}: {e:?}", username.as_str()))?;
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
        // Straight into the table, in chunks, authored by the members in
        // turn: the server's writer would take minutes for this.
        let pool = store.pool();
        let mut from = 1;
        while from <= options.history {
            let to = (from + CHUNK - 1).min(options.history);
            sqlx::query(
                "WITH RECURSIVE n(seq) AS (SELECT $1 UNION ALL SELECT seq + 1 FROM n WHERE seq < $2)
                 INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at)
                 SELECT $3, seq, $4 + seq % $5,
                        'seed-' || seq, 'Seeded message number ' || seq || ', with some words after it.',
                        $6 FROM n",
            )
            .bind(from)
            .bind(to)
            .bind(id)
            .bind(first)
            .bind(members as i64)
            .bind(app::store::now_millis())
            .execute(pool)
            .await?;
            from = to + 1;
        }
        sqlx::query("UPDATE rooms SET last_seq = $2 WHERE id = $1").bind(id).bind(options.history).execute(pool).await?;
        if store.engine() == app::store::Engine::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
        }
        room = Some(id);
    }
    let result = json!({
        "users": ids.len(),
        "users_in_s": users_in.as_secs_f64(),
        "history_room": room,
        "history_messages": options.history,
        "seeded_in_s": started.elapsed().as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
