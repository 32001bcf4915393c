//! `RoomModel::apply`, frame by frame.

use super::model::{Next, RoomModel, TYPING_SHOWS_MS};
use crate::domain::protocol::ServerFrame;
use crate::domain::{
    ClientId, Member, Message, Notify, PublicProfile, Removal, Role, RoomId, RoomSummary, RoomView, UserId,
    Visibility,
};

fn client_id(id: &str) -> ClientId {
    ClientId::parse(id).expect("a valid client id")
}

fn person(id: i64, name: &str) -> PublicProfile {
    PublicProfile { id: UserId(id), username: name.into(), display_name: String::new(), avatar_version: None }
}

fn member(id: i64, name: &str, role: Role) -> Member {
    Member { profile: person(id, name), role, online: false }
}

fn message(seq: i64, author: i64) -> Message {
    Message { author: person(author, "author"), ..Message::sample(seq, author, seq) }
}

fn model() -> RoomModel {
    let room = RoomSummary {
        id: RoomId(1),
        name: "general".into(),
        topic: String::new(),
        visibility: Visibility::Public,
        member_count: 1,
        last_seq: 2,
        last_activity: 0,
        last_message: None,
        unread: 0,
        read_through: 2,
        mentions: 0,
        role: Some(Role::Member),
        notify: Notify::Mentions,
        peer: None,
        peer_online: false,
    };
    let members = vec![member(1, "me", Role::Member)];
    RoomModel::new(RoomView { room, members, messages: vec![message(1, 2), message(2, 2)], has_older: false })
}

const ME: Option<UserId> = Some(UserId(1));

fn seqs(model: &RoomModel) -> Vec<i64> {
    model.timeline.messages().iter().map(|m| m.seq).collect()
}

#[test]
fn catching_up_merges_and_sends_what_is_unsent() {
    let mut model = model();
    let frame = ServerFrame::Subscribed {
        room: RoomId(1),
        messages: vec![message(2, 2), message(3, 2)],
        changes: vec![],
    };
    assert_eq!(model.apply(ME, &frame, 0.0), Some(Next::SendUnsent));
    assert!(model.caught_up);
    assert_eq!(seqs(&model), [1, 2, 3]);
    let other = ServerFrame::Subscribed { room: RoomId(9), messages: vec![message(4, 2)], changes: vec![] };
    assert_eq!(model.apply(ME, &other, 0.0), None, "another room's frame is not this page's");
    assert_eq!(seqs(&model), [1, 2, 3], "another room's frame changes nothing");
}

#[test]
fn a_message_after_a_gap_catches_up_instead_of_showing_a_hole() {
    let mut model = model();
    model.apply(ME, &ServerFrame::Subscribed { room: RoomId(1), messages: vec![], changes: vec![] }, 0.0);
    let typing = ServerFrame::Typing { room: RoomId(1), user: UserId(2), name: "Bob".into() };
    assert_eq!(model.apply(ME, &typing, 100.0), Some(Next::ExpireTyping));
    assert_eq!(model.apply(ME, &ServerFrame::Message { message: message(3, 2) }, 0.0), Some(Next::Nothing));
    assert!(model.typing.is_empty(), "a message ends its author's typing");
    assert_eq!(model.apply(ME, &ServerFrame::Message { message: message(5, 2) }, 0.0), Some(Next::CatchUp));
    assert_eq!(seqs(&model), [1, 2, 3]);
    assert!(!model.caught_up);
    assert_eq!(model.apply(ME, &ServerFrame::Resync { room: RoomId(1) }, 0.0), Some(Next::Reload));
}

#[test]
fn typing_shows_for_others_only_and_expires() {
    let mut model = model();
    let mine = ServerFrame::Typing { room: RoomId(1), user: UserId(1), name: "me".into() };
    assert_eq!(model.apply(ME, &mine, 0.0), None, "my own typing is not shown");
    let bob = ServerFrame::Typing { room: RoomId(1), user: UserId(2), name: "Bob".into() };
    model.apply(ME, &bob, 1000.0);
    model.apply(ME, &bob, 2000.0);
    assert_eq!(model.typing.len(), 1, "one line per typist");
    model.expire_typing(2000.0 + TYPING_SHOWS_MS - 1.0);
    assert_eq!(model.typing.len(), 1);
    model.expire_typing(2000.0 + TYPING_SHOWS_MS);
    assert!(model.typing.is_empty());
}

#[test]
fn members_stay_sorted_and_counted_and_my_role_follows() {
    let mut model = model();
    let changed = |m| ServerFrame::MemberChanged { room: RoomId(1), member: m };
    model.apply(ME, &changed(member(3, "zoe", Role::Member)), 0.0);
    model.apply(ME, &changed(member(2, "Bob", Role::Admin)), 0.0);
    model.apply(ME, &changed(member(1, "me", Role::Owner)), 0.0);
    let names: Vec<&str> = model.members.iter().map(|m| m.profile.username.as_str()).collect();
    assert_eq!(names, ["me", "Bob", "zoe"]);
    assert_eq!(model.summary.member_count, 3);
    assert_eq!(model.summary.role, Some(Role::Owner));
    model.apply(ME, &ServerFrame::Presence { user: UserId(3), online: true }, 0.0);
    let stranger = ServerFrame::Presence { user: UserId(99), online: true };
    assert_eq!(model.apply(ME, &stranger, 0.0), None, "not someone this page shows");
    assert!(model.members[2].online);
    model.apply(ME, &ServerFrame::MemberLeft { room: RoomId(1), user: UserId(3) }, 0.0);
    assert_eq!(model.summary.member_count, 2);
}

#[test]
fn the_room_is_lost_when_removed_or_made_private_to_an_outsider() {
    let mut removed = model();
    removed.apply(
        ME,
        &ServerFrame::RemovedFromRoom {
            room: RoomId(1),
            name: "general".into(),
            by: "Bob".into(),
            reason: Removal::Kicked,
        },
        0.0,
    );
    assert!(removed.lost);
    assert_eq!(removed.summary.role, None);

    let mut outsider = model();
    outsider.apply(ME, &ServerFrame::RoomLeft { room: RoomId(1) }, 0.0);
    assert!(!outsider.lost, "a public room stays readable");
    let private = ServerFrame::RoomChanged {
        room: RoomId(1),
        name: "quiet".into(),
        topic: "t".into(),
        visibility: Visibility::Private,
    };
    outsider.apply(ME, &private, 0.0);
    assert_eq!(outsider.summary.name, "quiet");
    assert!(outsider.lost);
}

#[test]
fn reloading_keeps_what_is_still_being_sent() {
    let mut model = model();
    model.timeline.add_pending(client_id("pending"), "hello".into(), None, Vec::new());
    model.timeline.fail(&client_id("pending"));
    model.timeline.retry(&client_id("pending"));
    let opened = RoomView {
        room: model.summary.clone(),
        members: vec![],
        messages: vec![message(7, 2)],
        has_older: true,
    };
    model.reload(opened);
    assert_eq!(seqs(&model), [7]);
    assert!(model.timeline.has_older());
    assert_eq!(model.timeline.pending().len(), 1);
    assert_eq!(model.timeline.pending()[0].client_id, client_id("pending"));
    assert_eq!(model.timeline.attempt(&client_id("pending")), Some(1), "its attempt too");
}

#[test]
fn the_first_unread_message_is_known_from_the_opened_room_and_kept_on_reload() {
    let mut opened = model();
    assert_eq!(opened.first_unread, None, "all read");
    let mut room = opened.summary.clone();
    room.last_seq = 5;
    room.read_through = 3;
    room.unread = 2;
    let unread =
        RoomModel::new(RoomView { room: room.clone(), members: vec![], messages: vec![], has_older: false });
    assert_eq!(unread.first_unread, Some(4));
    opened.first_unread = Some(4);
    room.unread = 0;
    opened.reload(RoomView { room, members: vec![], messages: vec![], has_older: false });
    assert_eq!(opened.first_unread, Some(4), "the line stays where it was");
}
