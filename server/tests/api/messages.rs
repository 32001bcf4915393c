//! Rich messages against the real server, on both engines: edits,
//! deletions and reactions numbered in the room's sequence, live in order
//! and replayed exactly once to a resuming tab; history in its current
//! state; formatting, replies, and the refusals.

use crate::support::{Browser, Socket, TestServer, PASSWORD};
use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{Change, ChangeKind, Message, RoomId, Seq};
use reqwest::StatusCode;
use std::collections::BTreeMap;

async fn user(server: &TestServer, name: &str) -> Browser {
    let browser = server.browser();
    assert_eq!(browser.register(name, PASSWORD).await.status, StatusCode::OK);
    browser
}

async fn edit(browser: &Browser, room: i64, seq: Seq, body: &str) -> crate::support::Reply {
    browser
        .call("edit_message", &[("room", &room.to_string()), ("seq", &seq.to_string()), ("body", body)])
        .await
}

async fn react(browser: &Browser, room: i64, seq: Seq, emoji: &str, on: bool) -> crate::support::Reply {
    let (room, seq, on) = (room.to_string(), seq.to_string(), on.to_string());
    browser.call("react", &[("room", &room), ("seq", &seq), ("emoji", emoji), ("on", &on)]).await
}

async fn delete(browser: &Browser, room: i64, seq: Seq) -> crate::support::Reply {
    browser.call("delete_message", &[("room", &room.to_string()), ("seq", &seq.to_string())]).await
}

/// A room's messages as a tab holds them, built only from what its socket
/// delivers: every number once, in order.
#[derive(Default)]
struct Replica {
    messages: BTreeMap<Seq, Message>,
    through: Seq,
}

impl Replica {
    fn take(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::Subscribed { messages, changes, .. } => {
                let mut numbers: Vec<Seq> =
                    messages.iter().map(|m| m.seq).chain(changes.iter().map(|c| c.seq)).collect();
                numbers.sort_unstable();
                for seq in numbers {
                    self.next(seq);
                }
                for message in messages {
                    self.messages.insert(message.seq, message);
                }
                changes.iter().for_each(|change| self.apply(change));
            }
            ServerFrame::Message { message } => {
                self.next(message.seq);
                self.messages.insert(message.seq, message);
            }
            ServerFrame::Changed { change } => {
                self.next(change.seq);
                self.apply(&change);
            }
            _ => {}
        }
    }

    fn next(&mut self, seq: Seq) {
        assert_eq!(seq, self.through + 1, "every number once, in order");
        self.through = seq;
    }

    fn apply(&mut self, change: &Change) {
        if let Some(message) = self.messages.get_mut(&change.message) {
            message.apply(&change.what);
        }
    }
}

async fn changed(socket: &mut Socket) -> Change {
    socket
        .until(|frame| match frame {
            ServerFrame::Changed { change } => Some(change),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn edits_deletions_and_reactions_arrive_live_in_order_and_history_is_current() {
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = alice.create_room("Lobby", "public").await;
    bob.join_room(room).await;
    let mut bob_socket = bob.socket().await;
    bob_socket.subscribe(room, Some(0)).await;
    let first = alice.post(room, "a1", "hello **world**").await;
    let second = alice.post(room, "a2", "oops").await;

    assert_eq!(edit(&alice, room, first, "hello _there_").await.status, StatusCode::OK);
    assert_eq!(react(&bob, room, first, "👍", true).await.status, StatusCode::OK);
    assert_eq!(react(&alice, room, first, "👍", true).await.status, StatusCode::OK);
    // Twice is once: no change, no number.
    assert_eq!(react(&alice, room, first, "👍", true).await.status, StatusCode::OK);
    assert_eq!(delete(&alice, room, second).await.status, StatusCode::OK);
    assert_eq!(react(&bob, room, first, "👍", false).await.status, StatusCode::OK);

    let mut seen = Vec::new();
    for _ in 0..5 {
        let change = changed(&mut bob_socket).await;
        seen.push((change.seq, change.message, change.what));
    }
    let edited_at = match &seen[0].2 {
        ChangeKind::Edited { body, html, edited_at, .. } => {
            assert_eq!((body.as_str(), html.as_str()), ("hello _there_", "<p>hello <em>there</em></p>\n"));
            *edited_at
        }
        other => panic!("an edit first, not {other:?}"),
    };
    let kinds: Vec<_> = seen
        .iter()
        .map(|(seq, message, what)| {
            let kind = match what {
                ChangeKind::Edited { .. } => "edit".to_owned(),
                ChangeKind::Deleted => "delete".to_owned(),
                ChangeKind::Reacted { by, on, .. } => format!("{} {on}", by.name),
            };
            (*seq, *message, kind)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (3, first, "edit".into()),
            (4, first, "bob true".into()),
            (5, first, "alice true".into()),
            (6, second, "delete".into()),
            (7, first, "bob false".into()),
        ]
    );

    let history = alice.history(room).await;
    assert_eq!(history[0].body, "hello _there_");
    assert_eq!(history[0].edited_at, Some(edited_at));
    let reactions: Vec<_> = history[0].reactions.iter().map(|r| (r.emoji.as_str(), r.people.len())).collect();
    assert_eq!(reactions, [("👍", 1)]);
    assert!(history[1].deleted && history[1].body.is_empty() && history[1].html.is_empty());
    let rooms = bob.ok("my_rooms", &[]).await;
    assert_eq!(rooms[0]["last_seq"], 7, "the room's sequence counts every change");
}

/// Alice posts, edits, reacts and deletes while Bob's connection drops at
/// random moments; each time, Bob resumes after the last number he saw.
/// He must receive every number exactly once, in order, and end with the
/// room exactly as its history reads.
#[tokio::test]
async fn a_resuming_tab_receives_every_change_exactly_once() {
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = alice.create_room("Flaky edits", "public").await;
    bob.join_room(room).await;
    let rounds = 60;
    let poster = tokio::spawn(async move {
        let mut last = 0;
        for i in 1..=rounds {
            let seq = alice.post(room, &format!("m{i}"), &format!("message {i}")).await;
            if last > 0 {
                assert_eq!(edit(&alice, room, last, &format!("edited {i}")).await.status, StatusCode::OK);
                let emoji = ["👍", "🎉", "😮"][i % 3];
                assert_eq!(react(&alice, room, last, emoji, true).await.status, StatusCode::OK);
                if i % 4 == 0 {
                    assert_eq!(delete(&alice, room, last).await.status, StatusCode::OK);
                } else if i % 3 == 0 {
                    assert_eq!(react(&alice, room, last, emoji, false).await.status, StatusCode::OK);
                }
            }
            last = seq;
        }
        alice
    });

    let mut replica = Replica::default();
    let mut random = 0x2545_f491_u64;
    let mut reconnects = 0;
    loop {
        let mut socket = bob.socket().await;
        reconnects += 1;
        socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(replica.through) }).await;
        random = random.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut budget = 1 + (random >> 33) % 30;
        let mut caught_up = false;
        while budget > 0 {
            let frame = match socket.try_next(std::time::Duration::from_millis(500)).await {
                Some(frame) => frame,
                None => break,
            };
            match frame {
                ServerFrame::Subscribed { .. } => caught_up = true,
                ServerFrame::Message { .. } | ServerFrame::Changed { .. } if caught_up => budget -= 1,
                // Live frames of his rooms before the catch-up's answer.
                _ => continue,
            }
            replica.take(frame);
        }
        drop(socket);
        if poster.is_finished() && budget > 0 {
            break;
        }
    }
    let alice = poster.await.expect("the poster finishes");
    let history = alice.history(room).await;
    let replica: Vec<&Message> = replica.messages.values().collect();
    assert_eq!(replica.len(), history.len());
    for (held, stored) in replica.iter().zip(&history) {
        assert_eq!((held.seq, &held.body, held.deleted), (stored.seq, &stored.body, stored.deleted));
        assert_eq!(held.reactions, stored.reactions, "reactions of {}", held.seq);
    }
    assert!(reconnects > 5, "the test dropped the connection often ({reconnects})");
}

#[tokio::test]
async fn changes_are_refused_in_words_and_change_nothing() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = alice.create_room("Rules", "public").await;
    bob.join_room(room).await;
    let mine = alice.post(room, "a1", "mine").await;

    let refused = edit(&bob, room, mine, "his now").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(delete(&bob, room, mine).await.status, StatusCode::FORBIDDEN);
    let empty = edit(&alice, room, mine, "  ").await;
    assert_eq!(
        (empty.status, empty.problem("message").as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("required"))
    );
    let long = edit(&alice, room, mine, &"x".repeat(4001)).await;
    assert_eq!(long.problem("message").as_deref(), Some("too_long"));
    for not_emoji in ["x", "👍👍", "<b>", ""] {
        let reply = react(&bob, room, mine, not_emoji, true).await;
        assert_eq!(reply.problem("emoji").as_deref(), Some("not_an_emoji"), "{not_emoji:?}");
    }
    assert_eq!(edit(&alice, room, 999, "nothing there").await.status, StatusCode::NOT_FOUND);

    // The twentieth emoji is the last one a message takes.
    let emoji: Vec<&str> =
        "😀 😃 😄 😁 😆 😅 😂 🤣 😊 😇 🙂 🙃 😉 😌 😍 🥰 😘 😗 😙 😚 😋".split(' ').collect();
    for face in &emoji[..20] {
        assert_eq!(react(&bob, room, mine, face, true).await.status, StatusCode::OK, "{face}");
    }
    let full = react(&bob, room, mine, emoji[20], true).await;
    assert_eq!(full.problem("emoji").as_deref(), Some("too_many_reactions"));

    // Gone is gone: a deleted message takes no edit and no reaction.
    assert_eq!(delete(&alice, room, mine).await.status, StatusCode::OK);
    assert_eq!(edit(&alice, room, mine, "back").await.status, StatusCode::NOT_FOUND);
    assert_eq!(react(&bob, room, mine, "👍", true).await.status, StatusCode::NOT_FOUND);
    let history = alice.history(room).await;
    assert!(history[0].deleted && history[0].reactions.is_empty());
}

#[tokio::test]
async fn moderators_delete_anyones_message() {
    let server = TestServer::start().await;
    let owner = user(&server, "owner").await;
    let bob = user(&server, "bob").await;
    let room = owner.create_room("Moderated", "public").await;
    bob.join_room(room).await;
    let his = bob.post(room, "b1", "spam").await;
    assert_eq!(delete(&owner, room, his).await.status, StatusCode::OK);
    assert!(owner.history(room).await[0].deleted);
}

#[tokio::test]
async fn messages_are_formatted_safely_and_replies_quote_what_they_answer() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Markdown", "public").await;
    let first = alice.post(room, "a1", "**bold** and <script>alert(1)</script>").await;
    let r = room.to_string();
    let reply = alice
        .ok(
            "post_message",
            &[("room", &r), ("client_id", "a2"), ("body", "answer"), ("reply_to", &first.to_string())],
        )
        .await;
    assert_eq!(reply["reply"]["seq"], first);
    assert_eq!(reply["reply"]["author"], "alice");
    assert_eq!(reply["reply"]["text"], "**bold** and <script>alert(1)</script>");
    let history = alice.history(room).await;
    assert_eq!(history[0].html, "<p><strong>bold</strong> and &lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
    assert_eq!(history[1].reply.as_ref().map(|q| q.seq), Some(first));
    let missing = alice
        .call("post_message", &[("room", &r), ("client_id", "a3"), ("body", "to what?"), ("reply_to", "99")])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // A deleted original shows as deleted in the reply.
    assert_eq!(delete(&alice, room, first).await.status, StatusCode::OK);
    let history = alice.history(room).await;
    let quote = history[1].reply.as_ref().expect("the quote");
    assert!(quote.deleted && quote.text.is_empty());
}

/// The window read by `function` (`room_history_around` or
/// `room_history_after`) at number `seq`: its messages' numbers and its
/// neighbours.
async fn window(
    browser: &Browser,
    function: &str,
    room: i64,
    seq: Seq,
) -> (Vec<Seq>, Option<Seq>, Option<Seq>) {
    let key = if function == "room_history_around" { "seq" } else { "after" };
    let reply = browser.call(function, &[("room", &room.to_string()), (key, &seq.to_string())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{function} {seq}: {}", reply.json);
    let messages = reply.json["messages"].as_array().expect("messages");
    let seqs = messages.iter().map(|m| m["seq"].as_i64().expect("a number")).collect();
    (seqs, reply.json["older"].as_i64(), reply.json["newer"].as_i64())
}

#[tokio::test]
async fn a_window_around_a_message_far_back_and_pages_after_it_reach_the_newest_once_each() {
    // Posts a long history faster than anyone may.
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Windows", "public").await;
    let mut sent = Vec::new();
    for i in 1..=130 {
        let seq = alice.post(room, &format!("m{i}"), &format!("message {i}")).await;
        // Reactions take numbers too: messages' numbers are not consecutive.
        if i % 7 == 0 {
            assert_eq!(react(&alice, room, seq, "👍", true).await.status, StatusCode::OK);
        }
        sent.push(seq);
    }
    // Half a page before the original, it and what follows.
    let (around, older, newer) = window(&alice, "room_history_around", room, sent[59]).await;
    assert_eq!(around, sent[34..84]);
    assert_eq!((older, newer), (Some(sent[33]), Some(sent[84])));
    let r = room.to_string();
    let seq = sent[62].to_string();
    let read = alice.call("room_history_around", &[("room", &r), ("seq", &seq)]).await;
    let reacted = read.json["messages"].as_array().and_then(|m| m.iter().find(|m| m["seq"] == sent[62]));
    assert_eq!(
        reacted.map(|m| m["reactions"][0]["emoji"].clone()),
        Some("👍".into()),
        "in its current state"
    );
    // Filling from there, a page at a time, reaches the newest, each once.
    let mut held = around;
    let mut last = *held.last().expect("a message");
    loop {
        let (page, older, newer) = window(&alice, "room_history_after", room, last).await;
        assert_eq!(older, Some(last));
        held.extend(&page);
        let Some(next) = newer else { break };
        last = *page.last().expect("a full page");
        assert!(next > last);
    }
    assert_eq!(held, sent[34..]);
    // At the beginning, and at numbers that are no message's.
    assert_eq!(
        window(&alice, "room_history_around", room, sent[0]).await,
        (sent[..50].to_vec(), None, Some(sent[50]))
    );
    let reaction = sent[6] + 1;
    assert_eq!(
        window(&alice, "room_history_around", room, reaction).await,
        (sent[..50].to_vec(), None, Some(sent[50]))
    );
    assert_eq!(
        window(&alice, "room_history_around", room, -5).await,
        (sent[..50].to_vec(), None, Some(sent[50]))
    );
    let end = window(&alice, "room_history_around", room, Seq::MAX).await;
    assert_eq!((end.0.len(), end.2), (25, None));
    assert_eq!(window(&alice, "room_history_after", room, Seq::MAX).await.0, Vec::<Seq>::new());
}

#[tokio::test]
async fn another_instance_sees_edits_deletions_and_reactions() {
    let cluster = crate::cluster::cluster().await;
    let alice = user(&cluster.a, "alice").await;
    let bob = user(&cluster.b, "bob").await;
    let room = alice.create_room("Everywhere", "public").await;
    bob.join_room(room).await;
    let mut bob_socket = bob.socket().await;
    bob_socket.subscribe(room, Some(0)).await;
    let seq = alice.post(room, "a1", "hi").await;
    assert_eq!(edit(&alice, room, seq, "hi all").await.status, StatusCode::OK);
    assert_eq!(react(&alice, room, seq, "🎉", true).await.status, StatusCode::OK);
    assert_eq!(delete(&alice, room, seq).await.status, StatusCode::OK);
    let mut kinds = Vec::new();
    for _ in 0..3 {
        kinds.push(match changed(&mut bob_socket).await.what {
            ChangeKind::Edited { body, .. } => body,
            ChangeKind::Reacted { emoji, .. } => emoji,
            ChangeKind::Deleted => "deleted".into(),
        });
    }
    assert_eq!(kinds, ["hi all", "🎉", "deleted"]);
}

/// How many unread mentions `browser`'s user has in their first room.
async fn mentions_of(browser: &Browser) -> i64 {
    browser.ok("my_rooms", &[]).await[0]["mentions"].as_i64().expect("a count")
}

#[tokio::test]
async fn mentions_of_members_are_marked_and_counted_until_read() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let carol = user(&server, "carol").await;
    let room = alice.create_room("Calls", "public").await;
    bob.join_room(room).await;

    // Carol is not in the room: her name stays plain and nobody is told.
    let r = room.to_string();
    let posted =
        alice.ok("post_message", &[("room", &r), ("client_id", "a1"), ("body", "hey @Bob and @carol")]).await;
    assert_eq!(posted["html"], "<p>hey <span class=\"mention\">@Bob</span> and @carol</p>\n");
    assert_eq!(posted["mentions"].as_array().map(Vec::len), Some(1));
    assert_eq!(mentions_of(&bob).await, 1);
    assert_eq!(carol.ok("my_rooms", &[]).await.as_array().map(Vec::len), Some(0));

    // An edit that drops the mention takes it back; one that adds it counts.
    let seq = posted["seq"].as_i64().expect("a seq");
    assert_eq!(edit(&alice, room, seq, "hey all").await.status, StatusCode::OK);
    assert_eq!(mentions_of(&bob).await, 0);
    assert_eq!(edit(&alice, room, seq, "hey @bob!").await.status, StatusCode::OK);
    assert_eq!(mentions_of(&bob).await, 1);
    assert_eq!(alice.history(room).await[0].mentions.len(), 1);

    // Reading the room clears it.
    let mut socket = bob.socket().await;
    socket.subscribe(room, Some(0)).await;
    socket.send(&ClientFrame::Read { room: RoomId(room), seq: seq + 2 }).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while mentions_of(&bob).await != 0 {
        assert!(std::time::Instant::now() < deadline, "the read mark clears the mention");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A deleted message's mention is gone too.
    let again = alice.post(room, "a2", "@bob once more").await;
    assert_eq!(mentions_of(&bob).await, 1);
    assert_eq!(delete(&alice, room, again).await.status, StatusCode::OK);
    assert_eq!(mentions_of(&bob).await, 0);
}

async fn search(browser: &Browser, query: &str, room: Option<i64>) -> crate::support::Reply {
    let room = room.map(|room| room.to_string());
    let mut args = vec![("query", query)];
    if let Some(room) = &room {
        args.push(("room", room.as_str()));
    }
    browser.call("search", &args).await
}

/// The numbers of the messages a search found, in order.
fn found(reply: &crate::support::Reply) -> Vec<i64> {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    reply.json["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["seq"].as_i64().expect("a seq"))
        .collect()
}

#[tokio::test]
async fn search_finds_current_text_in_readable_rooms_only() {
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let open = alice.create_room("Open", "public").await;
    let hidden = alice.create_room("Hidden", "private").await;
    let greeting = alice.post(open, "a1", "Bonjour à l'élève <script>x</script>").await;
    let secret = alice.post(hidden, "a2", "secret élève plans").await;

    // Bob reads the public room (not even a member); never the private one.
    assert_eq!(found(&search(&bob, "élève", None).await), [greeting]);
    assert_eq!(found(&search(&alice, "ÉLÈVE", None).await).len(), 2);
    assert_eq!(found(&search(&bob, "plans", None).await), Vec::<i64>::new());
    assert_eq!(search(&bob, "plans", Some(hidden)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(found(&search(&alice, "plans", Some(hidden)).await), [secret]);
    let hit = &search(&bob, "bonjour", None).await.json["hits"][0];
    assert_eq!(hit["room_name"], "Open");
    assert_eq!(hit["snippet"], "<mark>Bonjour</mark> à l'élève &lt;script&gt;x&lt;/script&gt;");
    if std::env::var(crate::support::POSTGRES_ENV).is_err() {
        // SQLite folds diacritics, so French is found as typed on any keyboard.
        assert_eq!(found(&search(&bob, "eleve", None).await), [greeting]);
    }

    // Edits and deletions are searched as they now are.
    assert_eq!(edit(&alice, open, greeting, "Salut tout le monde").await.status, StatusCode::OK);
    assert_eq!(found(&search(&bob, "bonjour", None).await), Vec::<i64>::new());
    assert_eq!(found(&search(&bob, "salut", None).await), [greeting]);
    assert_eq!(delete(&alice, open, greeting).await.status, StatusCode::OK);
    assert_eq!(found(&search(&bob, "salut", None).await), Vec::<i64>::new());
    // A room's token is not a word of its messages.
    assert_eq!(found(&search(&alice, &format!("r{hidden}"), None).await), Vec::<i64>::new());
    // Each searched message has a search id (a deleted one loses it), and
    // SQLite's index holds them, once each.
    let mut db = server.database().await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT search_id FROM messages WHERE search_id IS NOT NULL")
        .fetch_all(&mut db)
        .await
        .expect("reading search ids");
    assert_eq!(ids.len(), 1, "the secret only");
    if std::env::var(crate::support::POSTGRES_ENV).is_err() {
        let indexed: Vec<i64> = sqlx::query_scalar("SELECT rowid FROM message_search")
            .fetch_all(&mut db)
            .await
            .expect("reading the index");
        assert_eq!(indexed, ids);
    }

    let empty = search(&bob, " ?! ", None).await;
    assert_eq!(empty.problem("search").as_deref(), Some("required"));
}

#[tokio::test]
async fn search_pages_go_from_newest_to_oldest() {
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let first = alice.create_room("Orchard", "public").await;
    let second = alice.create_room("Grove", "public").await;
    let mut posted = Vec::new();
    for i in 0..25 {
        if i == 12 && std::env::var(crate::support::POSTGRES_ENV).is_ok() {
            // PostgreSQL reads the newest window of search ids first, then
            // the rest: the page and the next one span both.
            let mut db = server.database().await;
            sqlx::query("SELECT setval('message_search_ids', 100000)")
                .execute(&mut db)
                .await
                .expect("moving the search ids on");
        }
        let room = if i % 2 == 0 { first } else { second };
        posted.push((room, alice.post(room, &format!("p{i}"), &format!("apple number {i}")).await));
    }
    let page = search(&alice, "apple", None).await;
    let newest: Vec<(i64, i64)> = posted.iter().rev().take(20).copied().collect();
    let got: Vec<(i64, i64)> = page.json["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| (hit["room"].as_i64().expect("a room"), hit["seq"].as_i64().expect("a seq")))
        .collect();
    assert_eq!(got, newest);
    let next = &page.json["next"];
    let rest = alice
        .call(
            "search",
            &[
                ("query", "apple"),
                ("before[sent_at]", &next["sent_at"].to_string()),
                ("before[room]", &next["room"].to_string()),
                ("before[seq]", &next["seq"].to_string()),
            ],
        )
        .await;
    assert_eq!(found(&rest).len(), 5);
    assert!(rest.json["next"].is_null());

    // In one room, the same: its 13 newest first, then nothing more.
    let in_first: Vec<i64> =
        posted.iter().rev().filter(|(room, _)| *room == first).map(|&(_, seq)| seq).collect();
    let page = search(&alice, "apple", Some(first)).await;
    assert_eq!(found(&page), in_first);
    assert!(page.json["next"].is_null());
    let (r, cursor) = (first.to_string(), &in_first[4]);
    let from_fifth = alice
        .call(
            "search",
            &[
                ("query", "apple"),
                ("room", r.as_str()),
                ("before[sent_at]", &page.json["hits"][4]["sent_at"].to_string()),
                ("before[room]", r.as_str()),
                ("before[seq]", &cursor.to_string()),
            ],
        )
        .await;
    assert_eq!(found(&from_fifth), in_first[5..]);
}
