//! Who may do what: every room, message, direct-message, invitation,
//! friendship and moderation operation, run as each kind of user, against
//! the status the rules say it must get.
//!
//! Each (operation, actor) pair runs in a fresh room, set up the same way:
//! an owner, an admin, a member, someone invited who has not answered,
//! someone kicked, someone banned, and a spare member ("victim") for the
//! operations that act on a member. The outsider belongs to none of it.

use crate::support::{Browser, TestServer};
use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::RoomId;
use reqwest::StatusCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Outsider,
    Invited,
    Member,
    Kicked,
    Banned,
    Admin,
    Owner,
}

use Actor::*;

const ACTORS: [Actor; 8] = [Anonymous, Outsider, Invited, Member, Kicked, Banned, Admin, Owner];

#[derive(Clone, Copy, Debug)]
enum Op {
    Open,
    History,
    /// Read the history around the owner's message, and after it.
    HistoryWindow,
    Post,
    Subscribe,
    Join,
    Leave,
    Invite,
    ListInvitations,
    Revoke,
    Accept,
    Decline,
    Kick,
    Ban,
    KickOwner,
    KickAdmin,
    Unban,
    ListBans,
    MakeAdmin,
    Settings,
    Delete,
    OpenDirect,
    ReadDirect,
    PostDirect,
    FriendRequest,
    /// Edit the owner's message.
    EditOthers,
    /// Delete the owner's message.
    DeleteOthers,
    /// React to the owner's message.
    React,
    /// Search the room.
    Search,
    /// Upload a file to attach in the room.
    Attach,
    /// Fetch a file the owner sent in the room.
    FetchAttachment,
    /// Choose which of the room's messages are pushed to one's devices.
    Notify,
}

struct People {
    browsers: Vec<(Actor, Browser)>,
    ids: Vec<(Actor, i64)>,
    victim: Browser,
    victim_id: i64,
}

impl People {
    fn browser(&self, actor: Actor) -> &Browser {
        &self.browsers.iter().find(|(a, _)| *a == actor).expect("every actor has a browser").1
    }

    fn id(&self, actor: Actor) -> i64 {
        self.ids.iter().find(|(a, _)| *a == actor).map_or(0, |(_, id)| *id)
    }
}

/// A fresh room of `visibility` with every role in place, and the number
/// of the owner's message in it.
async fn room(people: &People, visibility: &str, n: usize) -> (i64, i64) {
    let owner = people.browser(Owner);
    let room = owner.create_room(&format!("Room {visibility} {n}"), visibility).await;
    let r = room.to_string();
    for actor in [Admin, Member, Kicked, Banned, Invited] {
        let name = format!("{actor:?}").to_lowercase();
        owner.ok("invite", &[("room", &r), ("username", &name)]).await;
        if actor != Invited {
            people.browser(actor).ok("invitation_accept", &[("room", &r)]).await;
        }
    }
    owner.ok("invite", &[("room", &r), ("username", "victim")]).await;
    people.victim.ok("invitation_accept", &[("room", &r)]).await;
    owner
        .ok("role", &[("room", &r), ("user", &people.id(Admin).to_string()), ("change", "make_admin")])
        .await;
    owner.ok("kick", &[("room", &r), ("user", &people.id(Kicked).to_string())]).await;
    owner.ok("ban", &[("room", &r), ("user", &people.id(Banned).to_string())]).await;
    let message = owner.post(room, &format!("first-{n}"), "hello").await;
    (room, message)
}

async fn run(
    op: Op,
    actor: Actor,
    people: &People,
    (room, message): (i64, i64),
    direct: i64,
    n: usize,
) -> StatusCode {
    let browser = people.browser(actor);
    let r = room.to_string();
    let seq = message.to_string();
    let victim = people.victim_id.to_string();
    let call = |function: &'static str, args: Vec<(&'static str, String)>| async move {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        browser.call(function, &args).await.status
    };
    let room_only = || vec![("room", r.clone())];
    let on = |user: i64| vec![("room", r.clone()), ("user", user.to_string())];
    match op {
        Op::Open => call("open_room", room_only()).await,
        Op::History => call("room_history", vec![("room", r.clone()), ("before", "100".into())]).await,
        Op::HistoryWindow => {
            let around = call("room_history_around", vec![("room", r.clone()), ("seq", seq.clone())]).await;
            let after = call("room_history_after", vec![("room", r.clone()), ("after", seq)]).await;
            assert_eq!(around, after, "{actor:?} reads around and after alike");
            around
        }
        Op::Post => {
            call(
                "post_message",
                vec![("room", r.clone()), ("client_id", format!("p{n}")), ("body", "hi".into())],
            )
            .await
        }
        Op::Subscribe => subscribe(browser, room).await,
        Op::Join => call("join_room", room_only()).await,
        Op::Leave => call("leave_room", room_only()).await,
        Op::Invite => call("invite", vec![("room", r.clone()), ("username", "fresh".into())]).await,
        Op::ListInvitations => call("room_invitations", room_only()).await,
        Op::Revoke => call("invitation_revoke", on(people.id(Invited))).await,
        Op::Accept => call("invitation_accept", room_only()).await,
        Op::Decline => call("invitation_decline", room_only()).await,
        Op::Kick => call("kick", vec![("room", r.clone()), ("user", victim)]).await,
        Op::Ban => call("ban", vec![("room", r.clone()), ("user", victim)]).await,
        Op::KickOwner => call("kick", on(people.id(Owner))).await,
        Op::KickAdmin => call("kick", on(people.id(Admin))).await,
        Op::Unban => call("unban", on(people.id(Banned))).await,
        Op::ListBans => call("bans", room_only()).await,
        Op::MakeAdmin => {
            call("role", vec![("room", r.clone()), ("user", victim), ("change", "make_admin".into())]).await
        }
        Op::Settings => {
            let args = vec![
                ("room", r.clone()),
                ("name", format!("Renamed {n}")),
                ("topic", String::new()),
                ("visibility", "private".into()),
            ];
            call("room_settings", args).await
        }
        Op::Delete => call("room_delete", room_only()).await,
        Op::OpenDirect => call("direct", vec![("user", people.id(Owner).to_string())]).await,
        Op::ReadDirect => call("open_room", vec![("room", direct.to_string())]).await,
        Op::PostDirect => {
            let args =
                vec![("room", direct.to_string()), ("client_id", format!("d{n}")), ("body", "psst".into())];
            call("post_message", args).await
        }
        Op::EditOthers => {
            call("edit_message", vec![("room", r.clone()), ("seq", seq), ("body", "mine now".into())]).await
        }
        Op::DeleteOthers => call("delete_message", vec![("room", r.clone()), ("seq", seq)]).await,
        Op::React => {
            let args = vec![("room", r.clone()), ("seq", seq), ("emoji", "👍".into()), ("on", "true".into())];
            call("react", args).await
        }
        Op::Search => call("search", vec![("query", "hello".into()), ("room", r.clone())]).await,
        Op::Attach => browser.upload(room, "notes.txt", b"hello".to_vec()).await.status,
        Op::FetchAttachment => {
            let owner = people.browser(Owner);
            let file = owner.upload(room, "notes.txt", b"hello".to_vec()).await;
            let id = file.json["id"].as_str().expect("an uploaded file").to_owned();
            let args = [
                ("room", r.as_str()),
                ("client_id", &format!("f{n}")),
                ("body", ""),
                ("attachments[0]", &id),
            ];
            owner.ok("post_message", &args).await;
            browser.fetch(&format!("/files/{id}")).await.0
        }
        Op::Notify => call("room_notify", vec![("room", r.clone()), ("level", "all".into())]).await,
        Op::FriendRequest => {
            let status = call("friend_request", vec![("username", "owner".into())]).await;
            if status == StatusCode::OK {
                // Withdrawn, so that the next row starts from no request.
                call("friend_cancel", vec![("user", people.id(Owner).to_string())]).await;
            }
            status
        }
    }
}

/// Subscribing over the socket, as a status: 401 when the socket is
/// refused, 404 for `SubscribeFailed`, 200 for `Subscribed`.
async fn subscribe(browser: &Browser, room: i64) -> StatusCode {
    let Ok(mut socket) = browser.socket_from(Some(&browser.base.clone())).await else {
        return StatusCode::UNAUTHORIZED;
    };
    socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(0) }).await;
    socket
        .until(|frame| match frame {
            ServerFrame::Subscribed { .. } => Some(StatusCode::OK),
            ServerFrame::SubscribeFailed { error, .. } => {
                Some(StatusCode::from_u16(error.status()).expect("a status"))
            }
            _ => None,
        })
        .await
}

/// The expected status of each actor, in [`ACTORS`] order.
fn expected(op: Op, visibility: &str) -> [u16; 8] {
    //                      anon outs  inv  mem  kick  ban  adm  own
    let readers: [u16; 8] = [401, 404, 404, 200, 404, 404, 200, 200];
    let moderators = [401, 404, 404, 403, 404, 404, 200, 200];
    let owner_only = [401, 404, 404, 403, 404, 404, 403, 200];
    let public = visibility == "public";
    match op {
        Op::Open | Op::History | Op::HistoryWindow | Op::Subscribe | Op::Join | Op::Search if public => {
            [401, 200, 200, 200, 200, 403, 200, 200]
        }
        Op::Post | Op::Leave | Op::React | Op::Attach | Op::Notify if public => [401, 403, 403, 200, 403, 403, 200, 200],
        // Anyone who may read the room, and nobody else: not even told
        // that the file exists.
        Op::FetchAttachment if public => [404, 200, 200, 200, 200, 404, 200, 200],
        Op::FetchAttachment => [404, 404, 404, 200, 404, 404, 200, 200],
        Op::Attach => readers,
        Op::React => readers,
        // Only its author edits a message; moderators delete anyone's.
        Op::EditOthers if public => [401, 403, 403, 403, 403, 403, 403, 200],
        Op::EditOthers => owner_only,
        Op::DeleteOthers if public => [401, 403, 403, 403, 403, 403, 200, 200],
        Op::DeleteOthers => moderators,
        Op::Invite | Op::ListInvitations if public => [401, 403, 403, 200, 403, 403, 200, 200],
        Op::Open
        | Op::History
        | Op::HistoryWindow
        | Op::Subscribe
        | Op::Join
        | Op::Post
        | Op::Leave
        | Op::Search
        | Op::Notify => readers,
        Op::Invite | Op::ListInvitations => moderators,
        // Only the inviter or a moderator may revoke; the owner invited.
        Op::Revoke => {
            if public {
                [401, 403, 403, 403, 403, 403, 200, 200]
            } else {
                moderators
            }
        }
        Op::Accept | Op::Decline => [401, 404, 200, 404, 404, 404, 404, 404],
        Op::Kick | Op::Ban | Op::Unban | Op::ListBans if public => [401, 403, 403, 403, 403, 403, 200, 200],
        Op::Kick | Op::Ban | Op::Unban | Op::ListBans => moderators,
        Op::KickOwner if public => [401, 403, 403, 403, 403, 403, 403, 403],
        Op::KickOwner => [401, 404, 404, 403, 404, 404, 403, 403],
        Op::KickAdmin if public => [401, 403, 403, 403, 403, 403, 403, 200],
        Op::KickAdmin => [401, 404, 404, 403, 404, 404, 403, 200],
        Op::MakeAdmin | Op::Settings | Op::Delete if public => [401, 403, 403, 403, 403, 403, 403, 200],
        Op::MakeAdmin | Op::Settings | Op::Delete => owner_only,
        // Everyone may write to the owner (who allows everyone), except the
        // owner themself.
        Op::OpenDirect | Op::FriendRequest => [401, 200, 200, 200, 200, 200, 200, 422],
        // The conversation of the owner and the member is theirs alone.
        Op::ReadDirect | Op::PostDirect => [401, 404, 404, 200, 404, 404, 404, 200],
    }
}

const OPS: [Op; 32] = [
    Op::Open,
    Op::History,
    Op::HistoryWindow,
    Op::Post,
    Op::Subscribe,
    Op::Join,
    Op::Leave,
    Op::Invite,
    Op::ListInvitations,
    Op::Revoke,
    Op::Accept,
    Op::Decline,
    Op::Kick,
    Op::Ban,
    Op::KickOwner,
    Op::KickAdmin,
    Op::Unban,
    Op::ListBans,
    Op::MakeAdmin,
    Op::Settings,
    Op::Delete,
    Op::OpenDirect,
    Op::ReadDirect,
    Op::PostDirect,
    Op::FriendRequest,
    Op::EditOthers,
    Op::DeleteOthers,
    Op::React,
    Op::Search,
    Op::Attach,
    Op::FetchAttachment,
    Op::Notify,
];

#[tokio::test]
async fn every_operation_as_every_kind_of_user() {
    // The fixtures invite and join faster than anyone may: abuse limits
    // are off here (they are tested in pages.rs).
    let server = TestServer::start_unlimited().await;
    let mut browsers = Vec::new();
    let mut ids = Vec::new();
    for actor in ACTORS {
        let browser = server.browser();
        if actor != Anonymous {
            ids.push((actor, browser.sign_up(&format!("{actor:?}").to_lowercase()).await));
        }
        browsers.push((actor, browser));
    }
    let victim = server.browser();
    let victim_id = victim.sign_up("victim").await;
    server.browser().sign_up("fresh").await;
    let people = People { browsers, ids, victim, victim_id };
    let direct = people.browser(Owner).ok("direct", &[("user", &people.id(Member).to_string())]).await;
    let direct = direct["id"].as_i64().expect("a room id");

    let mut failures = Vec::new();
    let mut rows = 0;
    for visibility in ["private", "public"] {
        for op in OPS {
            for (actor, want) in ACTORS.into_iter().zip(expected(op, visibility)) {
                rows += 1;
                let room = room(&people, visibility, rows).await;
                let got = run(op, actor, &people, room, direct, rows).await;
                if got.as_u16() != want {
                    failures.push(format!("{visibility} {op:?} as {actor:?}: got {got}, expected {want}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {rows} rows differ:\n{}", failures.len(), failures.join("\n"));
}
