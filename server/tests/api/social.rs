//! Friends, direct messages, invitations, roles, kicks and bans, over HTTP
//! and the WebSocket.

use crate::support::TestServer;
use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{Removal, RoomEvent, RoomId};
use reqwest::StatusCode;
use std::time::Duration;

fn s(id: i64) -> String {
    id.to_string()
}

#[tokio::test]
async fn friend_requests_follow_the_rules_and_show_live() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = (server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    let bob_id = bob.sign_up("bob").await;
    let carol_id = carol.sign_up("carol").await;
    let mut bob_socket = bob.socket().await;

    let refused = |reply: &crate::support::Reply| reply.problem("username");
    assert_eq!(
        refused(&alice.call("friend_request", &[("username", "alice")]).await).as_deref(),
        Some("yourself")
    );
    assert_eq!(
        refused(&alice.call("friend_request", &[("username", "nobody")]).await).as_deref(),
        Some("unknown_user")
    );
    assert_eq!(
        refused(&alice.call("friend_request", &[("username", " ")]).await).as_deref(),
        Some("required")
    );

    assert_eq!(alice.ok("friend_request", &[("username", "BOB")]).await, "request_sent");
    bob_socket.until(|f| matches!(f, ServerFrame::FriendsChanged).then_some(())).await;
    assert_eq!(bob.ok("pending", &[]).await["friend_requests"], 1);
    assert_eq!(
        refused(&alice.call("friend_request", &[("username", "bob")]).await).as_deref(),
        Some("already_requested")
    );
    let view = bob.ok("friends", &[]).await;
    assert_eq!(view["incoming"][0]["user"]["username"], "alice");
    assert_eq!(alice.ok("friends", &[]).await["outgoing"][0]["user"]["username"], "bob");

    // Bob accepts: both are friends, the request is gone.
    bob.ok("friend_accept", &[("user", &s(alice_id))]).await;
    let view = alice.ok("friends", &[]).await;
    assert_eq!(view["friends"][0]["profile"]["username"], "bob");
    assert_eq!(view["friends"][0]["online"], true, "bob has a socket open");
    assert_eq!(view["outgoing"].as_array().unwrap().len(), 0);
    assert_eq!(bob.ok("pending", &[]).await["friend_requests"], 0);
    assert_eq!(
        refused(&bob.call("friend_request", &[("username", "alice")]).await).as_deref(),
        Some("already_friends")
    );
    assert_eq!(bob.call("friend_accept", &[("user", &s(alice_id))]).await.status, StatusCode::NOT_FOUND);

    // Crossing requests make a friendship.
    carol.ok("friend_request", &[("username", "bob")]).await;
    assert_eq!(bob.ok("friend_request", &[("username", "carol")]).await, "friends");
    assert_eq!(carol.ok("user", &[("username", "bob")]).await["relation"], "friends");

    // Decline, cancel and remove.
    bob.ok("friend_remove", &[("user", &s(carol_id))]).await;
    carol.ok("friend_request", &[("username", "bob")]).await;
    bob.ok("friend_decline", &[("user", &s(carol_id))]).await;
    carol.ok("friend_request", &[("username", "bob")]).await;
    carol.ok("friend_cancel", &[("user", &s(bob_id))]).await;
    assert_eq!(carol.call("friend_cancel", &[("user", &s(bob_id))]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(bob.ok("friends", &[]).await["friends"].as_array().unwrap().len(), 1, "alice only");

    // A block ends the friendship, refuses requests both ways and hides
    // the blocker.
    bob.ok("block", &[("user", &s(alice_id))]).await;
    assert_eq!(bob.ok("friends", &[]).await["friends"].as_array().unwrap().len(), 0);
    assert_eq!(bob.ok("friends", &[]).await["blocked"][0]["username"], "alice");
    assert_eq!(
        refused(&alice.call("friend_request", &[("username", "bob")]).await).as_deref(),
        Some("not_accepting")
    );
    assert_eq!(
        refused(&bob.call("friend_request", &[("username", "alice")]).await).as_deref(),
        Some("not_accepting")
    );
    assert_eq!(alice.call("user", &[("username", "bob")]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(bob.ok("user", &[("username", "alice")]).await["relation"], "blocked");
    bob.ok("unblock", &[("user", &s(alice_id))]).await;
    alice.ok("friend_request", &[("username", "bob")]).await;

    // Friends see each other come and go without a room in common.
    let dave = server.browser();
    let dave_id = dave.sign_up("dave").await;
    dave.ok("friend_request", &[("username", "alice")]).await;
    alice.ok("friend_accept", &[("user", &s(dave_id))]).await;
    let mut alice_socket = alice.socket().await;
    let dave_socket = dave.socket().await;
    let presence = |f| match f {
        ServerFrame::Presence { user, online } if user == app::domain::UserId(dave_id) => Some(online),
        _ => None,
    };
    assert!(alice_socket.until(presence).await, "dave came online");
    drop(dave_socket);
    assert!(!alice_socket.until(presence).await, "dave went offline");
    let _ = bob_id;
}

#[tokio::test]
async fn a_direct_conversation_is_unique_live_and_respects_blocks_and_settings() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = (server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    let bob_id = bob.sign_up("bob").await;
    carol.sign_up("carol").await;
    let mut bob_socket = bob.socket().await;

    let dm = alice.ok("direct", &[("user", &s(bob_id))]).await;
    let room = dm["id"].as_i64().unwrap();
    assert_eq!(dm["peer"]["username"], "bob");
    assert_eq!(dm["peer_online"], true);
    assert_eq!(dm["name"], "");
    // Bob's tabs learn of it at once, and it is the same room for him.
    let joined = bob_socket
        .until(|f| match f {
            ServerFrame::RoomJoined { room } => Some(room),
            _ => None,
        })
        .await;
    assert_eq!(joined.id, RoomId(room));
    assert_eq!(joined.peer.unwrap().username, "alice");
    assert_eq!(alice.ok("direct", &[("user", &s(bob_id))]).await["id"], room);
    assert_eq!(bob.ok("direct", &[("user", &s(alice_id))]).await["id"], room);
    assert_eq!(
        alice.call("direct", &[("user", &s(alice_id))]).await.problem("username").as_deref(),
        Some("yourself")
    );
    assert_eq!(alice.call("direct", &[("user", "999")]).await.status, StatusCode::NOT_FOUND);

    // Live, idempotent, unread like any room; private to the two of them.
    alice.post(room, "dm-1", "hello bob").await;
    alice.post(room, "dm-1", "hello bob").await;
    let message = bob_socket
        .until(|f| match f {
            ServerFrame::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!((message.seq, message.body.as_str()), (1, "hello bob"));
    let mine = bob.ok("my_rooms", &[]).await;
    assert_eq!(mine[0]["unread"], 1);
    assert_eq!(carol.call("open_room", &[("room", &s(room))]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(carol.call("join_room", &[("room", &s(room))]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(alice.call("leave_room", &[("room", &s(room))]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        alice.call("invite", &[("room", &s(room)), ("username", "carol")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(carol.ok("browse_rooms", &[("query", "")]).await.as_array().unwrap().len(), 0);

    // Friends only: Carol may not start one with Bob, and Alice (not a
    // friend) can no longer write in theirs.
    bob.ok("dm_policy", &[("policy", "friends_only")]).await;
    let refused = carol.call("direct", &[("user", &s(bob_id))]).await;
    assert_eq!(refused.problem("username").as_deref(), Some("not_accepting"));
    let refused =
        alice.call("post_message", &[("room", &s(room)), ("client_id", "dm-2"), ("body", "hi?")]).await;
    assert_eq!(refused.problem("message").as_deref(), Some("not_accepting"));
    assert_eq!(bob.ok("user", &[("username", "alice")]).await["can_message"], true, "bob may write to alice");
    assert_eq!(alice.ok("user", &[("username", "bob")]).await["can_message"], false);
    // Friends again: allowed.
    alice.ok("friend_request", &[("username", "bob")]).await;
    bob.ok("friend_accept", &[("user", &s(alice_id))]).await;
    alice.post(room, "dm-3", "friends now").await;

    // A block stops the conversation both ways.
    bob.ok("block", &[("user", &s(alice_id))]).await;
    let refused =
        alice.call("post_message", &[("room", &s(room)), ("client_id", "dm-4"), ("body", "hey")]).await;
    assert_eq!(refused.problem("message").as_deref(), Some("not_accepting"));
    let refused =
        bob.call("post_message", &[("room", &s(room)), ("client_id", "dm-5"), ("body", "hey")]).await;
    assert_eq!(refused.problem("message").as_deref(), Some("not_accepting"));
    assert_eq!(alice.call("direct", &[("user", &s(bob_id))]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // And hides it from the one who blocked, along with the blocked
    // person's messages elsewhere (the app shell gets whom to hide).
    assert_eq!(bob.ok("my_rooms", &[]).await.as_array().unwrap().len(), 0);
    assert_eq!(bob.ok("pending", &[]).await["blocked"][0], alice_id);
    assert_eq!(alice.ok("my_rooms", &[]).await[0]["id"], room);
}

#[tokio::test]
async fn invitations_follow_the_rules_and_show_live() {
    let server = TestServer::start().await;
    let (alice, bob, carol, dave) = (server.browser(), server.browser(), server.browser(), server.browser());
    alice.sign_up("alice").await;
    let bob_id = bob.sign_up("bob").await;
    let carol_id = carol.sign_up("carol").await;
    let dave_id = dave.sign_up("dave").await;
    let room = alice.create_room("Secret garden", "private").await;
    let r = s(room);
    let mut bob_socket = bob.socket().await;

    let invitation = alice.ok("invite", &[("room", &r), ("username", "Bob")]).await;
    assert_eq!(invitation["invitee"]["username"], "bob");
    bob_socket.until(|f| matches!(f, ServerFrame::InvitationsChanged).then_some(())).await;
    let mine = bob.ok("invitations", &[]).await;
    assert_eq!(mine[0]["room_name"], "Secret garden");
    assert_eq!(mine[0]["inviter"]["username"], "alice");
    assert_eq!(mine[0]["member_count"], 1);
    assert_eq!(bob.ok("pending", &[]).await["invitations"], 1);
    // Invited is not a member yet: the room is still hidden.
    assert_eq!(bob.call("open_room", &[("room", &r)]).await.status, StatusCode::NOT_FOUND);

    let problem = |reply: crate::support::Reply| reply.problem("username");
    assert_eq!(
        problem(alice.call("invite", &[("room", &r), ("username", "bob")]).await).as_deref(),
        Some("already_invited")
    );
    assert_eq!(
        problem(alice.call("invite", &[("room", &r), ("username", "alice")]).await).as_deref(),
        Some("already_member")
    );
    assert_eq!(
        problem(alice.call("invite", &[("room", &r), ("username", "zed")]).await).as_deref(),
        Some("unknown_user")
    );
    // Someone who blocked the inviter is not invited.
    carol.ok("block", &[("user", &alice.account().await["id"].as_i64().unwrap().to_string())]).await;
    assert_eq!(
        problem(alice.call("invite", &[("room", &r), ("username", "carol")]).await).as_deref(),
        Some("not_accepting")
    );

    // Accepting makes Bob a member, live.
    let joined = bob.ok("invitation_accept", &[("room", &r)]).await;
    assert_eq!(joined["role"], "member");
    bob_socket.until(|f| matches!(f, ServerFrame::RoomJoined { .. }).then_some(())).await;
    assert_eq!(bob.ok("open_room", &[("room", &r)]).await["room"]["member_count"], 2);
    assert_eq!(bob.call("invitation_accept", &[("room", &r)]).await.status, StatusCode::NOT_FOUND);
    // A member of a private room may not invite; the owner's admins may.
    assert_eq!(bob.call("invite", &[("room", &r), ("username", "dave")]).await.status, StatusCode::FORBIDDEN);
    alice.ok("role", &[("room", &r), ("user", &s(bob_id)), ("change", "make_admin")]).await;
    bob.ok("invite", &[("room", &r), ("username", "dave")]).await;
    assert_eq!(alice.ok("room_invitations", &[("room", &r)]).await[0]["invitee"]["username"], "dave");
    // Declined, then invited again and revoked.
    dave.ok("invitation_decline", &[("room", &r)]).await;
    assert_eq!(dave.ok("invitations", &[]).await.as_array().unwrap().len(), 0);
    bob.ok("invite", &[("room", &r), ("username", "dave")]).await;
    alice.ok("invitation_revoke", &[("room", &r), ("user", &s(dave_id))]).await;
    assert_eq!(dave.call("invitation_accept", &[("room", &r)]).await.status, StatusCode::NOT_FOUND);
    // A banned user cannot be invited.
    alice.ok("ban", &[("room", &r), ("user", &s(dave_id))]).await;
    assert_eq!(
        problem(bob.call("invite", &[("room", &r), ("username", "dave")]).await).as_deref(),
        Some("banned")
    );
    let _ = carol_id;
}

#[tokio::test]
async fn a_kick_takes_effect_at_once() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = (server.browser(), server.browser(), server.browser());
    alice.sign_up("alice").await;
    let bob_id = bob.sign_up("bob").await;
    carol.sign_up("carol").await;
    let room = alice.create_room("Moderated", "private").await;
    let r = s(room);
    for (user, name) in [(&bob, "bob"), (&carol, "carol")] {
        alice.ok("invite", &[("room", &r), ("username", name)]).await;
        user.ok("invitation_accept", &[("room", &r)]).await;
    }
    let mut bob_socket = bob.socket().await;
    let mut carol_socket = carol.socket().await;
    bob_socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(0) }).await;
    bob_socket.until(|f| matches!(f, ServerFrame::Subscribed { .. }).then_some(())).await;

    // A member cannot kick; an admin cannot kick the owner.
    assert_eq!(carol.call("kick", &[("room", &r), ("user", &s(bob_id))]).await.status, StatusCode::FORBIDDEN);

    alice.ok("kick", &[("room", &r), ("user", &s(bob_id))]).await;
    // The kick is acknowledged: whatever the room says from now on never
    // reaches Bob.
    alice.post(room, "after-kick", "Bob cannot read this").await;
    let removed = bob_socket
        .until(|f| match f {
            ServerFrame::RemovedFromRoom { room, name, by, reason } => Some((room, name, by, reason)),
            ServerFrame::Message { message } if message.event.is_none() => panic!("bob received {message:?}"),
            _ => None,
        })
        .await;
    assert_eq!(removed, (RoomId(room), "Moderated".into(), "alice".into(), Removal::Kicked));
    while let Some(frame) = bob_socket.try_next(Duration::from_millis(300)).await {
        assert!(
            !matches!(&frame, ServerFrame::Message { message } if message.room == RoomId(room)),
            "bob received {frame:?} after the kick"
        );
    }
    // Carol sees him leave and the room's own line about it.
    let event = carol_socket
        .until(|f| match f {
            ServerFrame::Message { message } if message.event.is_some() => Some(message),
            _ => None,
        })
        .await;
    assert!(matches!(event.event, Some(RoomEvent::Removed { ref user }) if user.username == "bob"));
    assert_eq!(event.author.username, "alice");
    // Every later read, post and subscription is refused.
    assert_eq!(bob.call("open_room", &[("room", &r)]).await.status, StatusCode::NOT_FOUND);
    let refused = bob.call("post_message", &[("room", &r), ("client_id", "x1"), ("body", "hi")]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    bob_socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(0) }).await;
    bob_socket.until(|f| matches!(f, ServerFrame::SubscribeFailed { .. }).then_some(())).await;
    // A kick is not a ban: Bob may be invited back.
    alice.ok("invite", &[("room", &r), ("username", "bob")]).await;
}

#[tokio::test]
async fn bans_roles_settings_and_deletion() {
    let server = TestServer::start().await;
    let (alice, bob, carol, dave) = (server.browser(), server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    let bob_id = bob.sign_up("bob").await;
    let carol_id = carol.sign_up("carol").await;
    let dave_id = dave.sign_up("dave").await;
    let room = alice.create_room("Town square", "public").await;
    let r = s(room);
    for user in [&bob, &carol, &dave] {
        user.join_room(room).await;
    }
    alice.ok("role", &[("room", &r), ("user", &s(bob_id)), ("change", "make_admin")]).await;
    // Admins ban members, not other admins nor the owner.
    bob.ok("ban", &[("room", &r), ("user", &s(dave_id))]).await;
    assert_eq!(bob.call("kick", &[("room", &r), ("user", &s(alice_id))]).await.status, StatusCode::FORBIDDEN);
    alice.ok("role", &[("room", &r), ("user", &s(carol_id)), ("change", "make_admin")]).await;
    assert_eq!(bob.call("kick", &[("room", &r), ("user", &s(carol_id))]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        bob.call("role", &[("room", &r), ("user", &s(carol_id)), ("change", "make_member")]).await.status,
        StatusCode::FORBIDDEN
    );
    // Banned from a public room: no reading, no joining.
    assert_eq!(dave.call("open_room", &[("room", &r)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(dave.join_room(room).await.status, StatusCode::FORBIDDEN);
    let bans = bob.ok("bans", &[("room", &r)]).await;
    assert_eq!(
        (bans[0]["user"]["username"].as_str(), bans[0]["by"]["username"].as_str()),
        (Some("dave"), Some("bob"))
    );
    bob.ok("unban", &[("room", &r), ("user", &s(dave_id))]).await;
    assert_eq!(dave.join_room(room).await.status, StatusCode::OK);

    // Settings belong to the owner.
    let form = [("room", r.as_str()), ("name", "Market"), ("topic", "Fresh"), ("visibility", "private")];
    assert_eq!(bob.call("room_settings", &form).await.status, StatusCode::FORBIDDEN);
    let mut dave_socket = dave.socket().await;
    let updated = alice.ok("room_settings", &form).await;
    assert_eq!((updated["name"].as_str(), updated["visibility"].as_str()), (Some("Market"), Some("private")));
    dave_socket
        .until(|f| matches!(f, ServerFrame::RoomChanged { ref name, .. } if name == "Market").then_some(()))
        .await;
    let bad = alice
        .call(
            "room_settings",
            &[("room", r.as_str()), ("name", "x"), ("topic", ""), ("visibility", "public")],
        )
        .await;
    assert_eq!(bad.problem("room_name").as_deref(), Some("too_short"));

    // Ownership moves; the old owner is an admin.
    alice.ok("role", &[("room", &r), ("user", &s(bob_id)), ("change", "make_owner")]).await;
    let opened = alice.ok("open_room", &[("room", &r)]).await;
    assert_eq!(opened["room"]["role"], "admin");
    assert_eq!(alice.call("room_delete", &[("room", &r)]).await.status, StatusCode::FORBIDDEN);

    // Deletion: every member loses the room at once.
    bob.ok("room_delete", &[("room", &r)]).await;
    let (_, _, _, reason) = dave_socket
        .until(|f| match f {
            ServerFrame::RemovedFromRoom { room, name, by, reason } => Some((room, name, by, reason)),
            _ => None,
        })
        .await;
    assert_eq!(reason, Removal::Deleted);
    for user in [&alice, &bob, &carol, &dave] {
        assert_eq!(user.call("open_room", &[("room", &r)]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(user.ok("my_rooms", &[]).await.as_array().unwrap().len(), 0);
    }
}

#[tokio::test]
async fn outsiders_learn_nothing_and_lose_a_room_made_private() {
    let server = TestServer::start().await;
    let (alice, bob, carol, eve) = (server.browser(), server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    bob.sign_up("bob").await;
    carol.sign_up("carol").await;
    let eve_id = eve.sign_up("eve").await;
    let room = alice.create_room("Open house", "public").await;
    let r = s(room);
    bob.join_room(room).await;

    // Eve looks at the public room without joining; Alice bans her
    // pre-emptively. Being banned, she is cut off, but she was never in
    // the room, so she is not told by whom.
    let mut eve_socket = eve.socket().await;
    eve_socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(0) }).await;
    eve_socket.until(|f| matches!(f, ServerFrame::Subscribed { .. }).then_some(())).await;
    alice.ok("ban", &[("room", &r), ("user", &s(eve_id))]).await;
    alice.post(room, "after-ban", "not for eve").await;
    while let Some(frame) = eve_socket.try_next(Duration::from_millis(300)).await {
        assert!(
            !matches!(frame, ServerFrame::RemovedFromRoom { .. } | ServerFrame::Message { .. }),
            "eve received {frame:?}"
        );
    }
    // A member of a public room may invite, but does not learn who is
    // banned, nor who blocked them.
    let refused = bob.call("invite", &[("room", &r), ("username", "eve")]).await;
    assert_eq!(refused.problem("username").as_deref(), Some("not_accepting"));
    assert_eq!(
        alice.call("invite", &[("room", &r), ("username", "eve")]).await.problem("username").as_deref(),
        Some("banned")
    );

    // Carol looks at the room; it becomes private: she stops receiving it.
    let mut carol_socket = carol.socket().await;
    carol_socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(0) }).await;
    carol_socket.until(|f| matches!(f, ServerFrame::Subscribed { .. }).then_some(())).await;
    alice
        .ok(
            "room_settings",
            &[("room", r.as_str()), ("name", "Open house"), ("topic", ""), ("visibility", "private")],
        )
        .await;
    carol_socket.until(|f| matches!(f, ServerFrame::RoomChanged { .. }).then_some(())).await;
    alice.post(room, "private-now", "members only").await;
    while let Some(frame) = carol_socket.try_next(Duration::from_millis(300)).await {
        assert!(!matches!(frame, ServerFrame::Message { .. }), "carol received {frame:?}");
    }

    // Joining by invitation consumes it; an archived room's invitations go.
    alice.ok("invite", &[("room", &r), ("username", "carol")]).await;
    assert_eq!(carol.ok("pending", &[]).await["invitations"], 1);
    let other = alice.create_room("Soon empty", "private").await;
    alice.ok("invite", &[("room", &s(other)), ("username", "carol")]).await;
    assert_eq!(carol.ok("pending", &[]).await["invitations"], 2);
    alice.ok("leave_room", &[("room", &s(other))]).await;
    assert_eq!(carol.ok("pending", &[]).await["invitations"], 1, "the archived room's invitation is gone");
    carol.ok("invitation_accept", &[("room", &r)]).await;
    assert_eq!(carol.ok("pending", &[]).await["invitations"], 0);

    // Blocking takes the conversation out of the blocker's list at once.
    let dm = bob.ok("direct", &[("user", &s(alice_id))]).await["id"].as_i64().unwrap();
    let mut bob_socket = bob.socket().await;
    bob.ok("block", &[("user", &s(alice_id))]).await;
    let left = bob_socket
        .until(|f| match f {
            ServerFrame::RoomLeft { room } => Some(room),
            _ => None,
        })
        .await;
    assert_eq!(left, RoomId(dm));
}
