//! The message list: messages grouped by author, room events, what is
//! still being sent, and older history loading on scrolling up.

use super::attachments::AttachmentList;
use super::message::MessageBodyView;
use super::state::RoomState;
use crate::domain::{linkify, Message, PublicProfile, RoomEvent, Segment, Seq, UserId};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::live::use_live;
use crate::ui::session::use_session;
use crate::ui::time::LocalTime;
use crate::ui::timeline::{Pending, Timeline};
use leptos::prelude::*;

/// Two messages of one author less than this apart share one header.
const GROUP_WITHIN_MS: i64 = 5 * 60 * 1000;

/// A message, whether it continues the previous one's group, whether
/// the "new messages" line goes above it, and whether messages not loaded
/// lie just before it.
#[derive(Clone, PartialEq)]
struct Row {
    message: Message,
    continued: bool,
    first_unread: bool,
    after_hole: bool,
}

/// What a row is drawn from: drawn again when it changes (an edit, a
/// deletion, a reaction, the message it quotes).
#[derive(Clone, PartialEq, Eq, Hash)]
struct RowKey {
    seq: Seq,
    continued: bool,
    first_unread: bool,
    after_hole: bool,
    edited_at: Option<i64>,
    deleted: bool,
    reactions: Vec<(String, Vec<UserId>)>,
    quote: Option<(String, bool)>,
}

impl Row {
    fn key(&self) -> RowKey {
        let m = &self.message;
        RowKey {
            seq: m.seq,
            continued: self.continued,
            first_unread: self.first_unread,
            after_hole: self.after_hole,
            edited_at: m.edited_at,
            deleted: m.deleted,
            reactions: m
                .reactions
                .iter()
                .map(|r| (r.emoji.clone(), r.people.iter().map(|p| p.id).collect()))
                .collect(),
            quote: m.reply.as_ref().map(|quote| (quote.text.clone(), quote.deleted)),
        }
    }
}

/// The rows of what `timeline` holds; the first at or after `first_unread`
/// gets the "new messages" line (and its author's header again), and one
/// just after a hole its header again.
fn rows(timeline: &Timeline, first_unread: Option<Seq>) -> Vec<Row> {
    let mut previous: Option<&Message> = None;
    let mut line = first_unread;
    timeline
        .messages()
        .iter()
        .map(|message| {
            let first_unread = line.is_some_and(|seq| message.seq >= seq);
            if first_unread {
                line = None;
            }
            let after_hole = timeline.hole_before(message.seq);
            let continued = !first_unread
                && !after_hole
                && previous.is_some_and(|p| {
                    p.author.id == message.author.id && message.sent_at - p.sent_at < GROUP_WITHIN_MS
                });
            previous = Some(message);
            Row { message: message.clone(), continued, first_unread, after_hole }
        })
        .collect()
}

#[component]
pub(super) fn MessageList(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let load_older = move || state.load_older();
    // The scroller is a column-reverse box: its scroll origin is the
    // bottom, so new messages keep it at the bottom and older ones added
    // above keep the reader where they were.
    let on_scroll = move |ev: leptos::ev::Event| {
        let element = event_target::<web_sys::Element>(&ev);
        let from_top =
            element.scroll_height() as f64 + element.scroll_top() as f64 - element.client_height() as f64;
        if from_top < 300.0 {
            load_older();
        }
    };
    view! {
        <div class="scroller" on:scroll=on_scroll tabindex="0" aria-label=t!(i18n, messages_label)>
            <div class="messages">
                {move || {
                    let (has_older, empty) = state.timeline(|t| (t.has_older(), t.messages().is_empty() && t.pending().is_empty()));
                    if has_older {
                        view! { <p class="history-edge muted">{t!(i18n, loading_older)}</p> }.into_any()
                    } else if empty {
                        view! { <p class="history-edge muted">{t!(i18n, no_messages)}</p> }.into_any()
                    } else {
                        view! { <p class="history-edge muted">{t!(i18n, room_beginning)}</p> }.into_any()
                    }
                }}
                <ol class="message-list">
                    <For
                        each=move || state.model.with(|m| rows(&m.timeline, m.first_unread))
                        key=Row::key
                        let(row)
                    >
                        <MessageItem state row />
                    </For>
                    <For
                        each=move || state.timeline(|t| t.pending().to_vec())
                        key=|pending| (pending.client_id.clone(), pending.failed)
                        let(pending)
                    >
                        <PendingItem state pending />
                    </For>
                </ol>
            </div>
        </div>
    }
}

#[component]
fn MessageItem(state: RoomState, row: Row) -> impl IntoView {
    let i18n = use_i18n();
    let line = row.first_unread.then(|| {
        view! {
            <li class="new-messages" role="separator" aria-label=t!(i18n, new_messages)>
                <span aria-hidden="true">{t!(i18n, new_messages)}</span>
            </li>
        }
    });
    let seq = row.message.seq;
    let hole = row.after_hole.then(|| {
        view! {
            <li class="history-hole">
                <button type="button" class="button subtle small" on:click=move |_| state.fill_hole(seq)>
                    {t!(i18n, load_more_messages)}
                </button>
            </li>
        }
    });
    view! { {hole} {line} <MessageRow state row /> }
}

#[component]
fn MessageRow(state: RoomState, row: Row) -> impl IntoView {
    let message = row.message;
    if let Some(event) = message.event.clone() {
        return view! { <EventItem event by=message.author.clone() seq=message.seq /> }.into_any();
    }
    // Someone the reader blocked: one line instead (reactive, as the list
    // of blocked people arrives after the page).
    let live = use_live();
    let i18n = use_i18n();
    let (author, seq) = (message.author.id, message.seq);
    let blocked = move || live.pending.with(|p| p.blocked.contains(&author));
    let continued = row.continued;
    (move || {
        if blocked() {
            view! { <li class="room-event muted" data-seq=seq>{t!(i18n, blocked_message)}</li> }.into_any()
        } else {
            message_view(state, continued, message.clone())
        }
    })
    .into_any()
}

/// A message with its author's header unless it continues a group.
fn message_view(state: RoomState, continued: bool, message: Message) -> AnyView {
    let header = (!continued).then(|| {
        let author = message.author.clone();
        let name = author.shown_name().to_owned();
        view! {
            <div class="message-meta">
                <strong class="author">{name}</strong>
                <LocalTime ms=message.sent_at />
            </div>
        }
    });
    let avatar = (!continued).then(|| view! { <Avatar profile=message.author.clone() size="sm" /> });
    let seq = message.seq;
    let mentions_me = state.me.is_some_and(|me| message.mentions.contains(&me));
    view! {
        <li class="message" class:continued=continued class:mentions-me=mentions_me data-seq=seq id=format!("message-{seq}")>
            <div class="message-avatar">{avatar}</div>
            <div class="message-main">
                {header}
                <MessageBodyView state message />
            </div>
        </li>
    }
    .into_any()
}

/// A line the room says about itself: "Bob was removed by Alice".
#[component]
fn EventItem(event: RoomEvent, by: PublicProfile, seq: Seq) -> impl IntoView {
    let i18n = use_i18n();
    let text = move || {
        let t = i18n.t();
        let words = match &event {
            RoomEvent::Removed { .. } => t.event_removed,
            RoomEvent::Banned { .. } => t.event_banned,
        };
        words(event.subject().shown_name(), by.shown_name())
    };
    view! { <li class="room-event muted" data-seq=seq>{text}</li> }
}

#[component]
fn PendingItem(state: RoomState, pending: Pending) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let client_id = pending.client_id.clone();
    let retry = move |_| state.retry(client_id.clone());
    let author = session.current_untracked().map(|a| a.public());
    view! {
        <li class="message pending" class:failed=pending.failed>
            <div class="message-avatar">{author.clone().map(|profile| view! { <Avatar profile size="sm" /> })}</div>
            <div class="message-main">
                <div class="message-meta">
                    <strong class="author">{author.map(|a| a.shown_name().to_owned())}</strong>
                    {if pending.failed {
                        view! {
                            <span class="send-state failed" role="alert">{t!(i18n, not_sent)}</span>
                            <button type="button" class="button subtle small" on:click=retry>{t!(i18n, retry)}</button>
                        }.into_any()
                    } else {
                        // Offline, it waits in the outbox (no "not sent" then).
                        let label = move || match state.live.network.get() {
                            true => i18n.t().sending,
                            false => i18n.t().waiting_for_network,
                        };
                        view! { <span class="send-state">{label}</span> }.into_any()
                    }}
                </div>
                {(!pending.body.is_empty()).then(|| view! { <MessageText body=pending.body /> })}
                <AttachmentList attachments=pending.attachments />
            </div>
        </li>
    }
}

/// The text of a message still being sent: plain text (HTML shows as
/// typed, never runs), with web links made clickable, until the server
/// answers with it rendered.
#[component]
fn MessageText(body: String) -> impl IntoView {
    let parts: Vec<_> = linkify(&body)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.to_owned().into_any(),
            Segment::Link(link) => view! {
                <a href=link.to_owned() rel="noopener noreferrer nofollow" target="_blank">{link.to_owned()}</a>
            }
            .into_any(),
        })
        .collect();
    view! { <p class="message-text">{parts}</p> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: Seq, author: i64, sent_at: i64) -> Message {
        Message::sample(seq, author, sent_at)
    }

    #[test]
    fn the_new_messages_line_goes_above_the_first_unread_and_breaks_its_group() {
        let messages = vec![message(4, 1, 0), message(5, 1, 1000), message(6, 1, 2000)];
        let timeline = Timeline::new(messages, false, 6);
        let marks = |first| -> Vec<(bool, bool)> {
            rows(&timeline, first).iter().map(|row| (row.continued, row.first_unread)).collect()
        };
        assert_eq!(marks(None), [(false, false), (true, false), (true, false)]);
        assert_eq!(marks(Some(5)), [(false, false), (false, true), (true, false)]);
        // The first unread is older than what is loaded: the line is at the top.
        assert_eq!(marks(Some(2)), [(false, true), (true, false), (true, false)]);
        assert_eq!(marks(Some(9)), [(false, false), (true, false), (true, false)]);
    }
}
