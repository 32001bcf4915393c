//! One message: its text as the server rendered it, the message it
//! answers, its reactions, and what the reader may do with it (react,
//! reply, edit, delete).

use super::attachments::AttachmentList;
use super::state::RoomState;
use crate::api::{delete_message, edit_message, react};
use crate::domain::{ChangeAction, Message, MessageBody, Quote, Reaction, Seq};
use crate::error::{AppError, Field};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::time::LocalTime;
use leptos::prelude::*;

/// The reactions offered in one click.
const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/// What the message shows in place of its text.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Reading,
    Editing,
    ConfirmingDelete,
}

/// A message's body, quote, reactions and actions, below its header.
#[component]
pub(super) fn MessageBodyView(state: RoomState, message: Message) -> impl IntoView {
    let i18n = use_i18n();
    let mode = RwSignal::new(Mode::Reading);
    let picking = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let (room, seq) = (message.room, message.seq);
    // The actions offered are the ones the rule allows (the server
    // checks it again).
    let target = message.target();
    let may = move |action: ChangeAction| match (state.me, state.role()) {
        (Some(me), Some(role)) => action.allowed(me, role, target).is_ok(),
        _ => false,
    };
    let member = move || state.role().is_some();
    let toggle = move |emoji: String, on: bool| {
        picking.set(false);
        report(error, react(room, seq, emoji, on));
    };
    if message.deleted {
        return view! { <p class="message-text deleted muted">{t!(i18n, message_deleted)}</p> }.into_any();
    }
    let quote = message.reply.clone().map(|quote| view! { <QuoteView state quote /> });
    let edited = message.edited_at.map(|ms| {
        view! { <p class="edited muted">{t!(i18n, edited)} " " <LocalTime ms /></p> }
    });
    let reactions = message.reactions.clone();
    let me = state.me;
    let body = message.body.clone();
    let html = message.html.clone();
    let attachments = message.attachments.clone();
    view! {
        {quote}
        {move || match mode.get() {
            Mode::Editing => view! {
                <EditForm state seq body=body.clone() done=move || mode.set(Mode::Reading) />
            }.into_any(),
            Mode::ConfirmingDelete => view! {
                <div class="confirm" role="alertdialog" aria-label=t!(i18n, delete_confirm)>
                    <p>{t!(i18n, delete_confirm)}</p>
                    <button type="button" class="button danger small" on:click=move |_| {
                        mode.set(Mode::Reading);
                        report(error, delete_message(room, seq));
                    }>{t!(i18n, delete_message)}</button>
                    <button type="button" class="button subtle small" on:click=move |_| mode.set(Mode::Reading)>
                        {t!(i18n, cancel)}
                    </button>
                </div>
            }.into_any(),
            Mode::Reading if html.is_empty() => ().into_any(),
            Mode::Reading => view! {
                <div class="message-text" inner_html=html.clone()></div>
            }.into_any(),
        }}
        <AttachmentList attachments />
        {edited}
        {(!reactions.is_empty()).then(|| view! {
            <ul class="reactions">
                {reactions.into_iter().map(|reaction| view! {
                    <li><ReactionButton reaction me on_toggle=toggle enabled=Signal::derive(member) /></li>
                }).collect_view()}
            </ul>
        })}
        <p class="field-error" role="alert">{move || error.get().map(|e| i18n.t().error_at(&e, Field::Emoji))}</p>
        {move || member().then(|| view! {
            <div class="message-actions" role="toolbar" aria-label=t!(i18n, message_actions)>
                <button type="button" class="icon-button" aria-label=t!(i18n, react)
                    aria-expanded=move || picking.get().to_string()
                    on:click=move |_| picking.update(|open| *open = !*open)>
                    <Icon path="M12 21a9 9 0 1 1 0-18 9 9 0 0 1 0 18ZM8 14s1.5 2 4 2 4-2 4-2M9 9.5h.01M15 9.5h.01" />
                </button>
                <button type="button" class="icon-button" aria-label=t!(i18n, reply)
                    on:click=move |_| state.reply_to(seq)><Icon path="M9 14 4 9l5-5M4 9h11a5 5 0 0 1 5 5v6" /></button>
                {may(ChangeAction::Edit).then(|| view! {
                    <button type="button" class="icon-button" aria-label=t!(i18n, edit)
                        on:click=move |_| mode.set(Mode::Editing)>
                        <Icon path="M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z" />
                    </button>
                })}
                {may(ChangeAction::Delete).then(|| view! {
                    <button type="button" class="icon-button" aria-label=t!(i18n, delete_message)
                        on:click=move |_| mode.set(Mode::ConfirmingDelete)>
                        <Icon path="M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6M10 11v6M14 11v6" />
                    </button>
                })}
            </div>
        })}
        {move || picking.get().then(|| view! { <EmojiPicker pick=move |emoji| toggle(emoji, true) /> })}
    }
    .into_any()
}

/// Runs `call` and shows its error, if any, in `error`.
fn report(
    error: RwSignal<Option<AppError>>,
    call: impl std::future::Future<Output = Result<(), AppError>> + 'static,
) {
    leptos::task::spawn_local(async move { error.set(call.await.err()) });
}

/// A line icon drawn from one SVG path, in the text's colour.
#[component]
fn Icon(path: &'static str) -> impl IntoView {
    view! {
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d=path />
        </svg>
    }
}

/// One emoji's reactions: its count, and who, in its accessible name;
/// pressed when the reader is one of them, and toggling theirs.
#[component]
fn ReactionButton(
    reaction: Reaction,
    me: Option<crate::domain::UserId>,
    on_toggle: impl Fn(String, bool) + Copy + Send + Sync + 'static,
    enabled: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let mine = me.is_some_and(|me| reaction.people.iter().any(|p| p.id == me));
    let names: Vec<String> = reaction.people.iter().map(|p| p.name.clone()).collect();
    let count = names.len();
    let emoji = reaction.emoji.clone();
    let label = {
        let emoji = emoji.clone();
        move || (i18n.t().reaction_label)(&emoji, &names)
    };
    view! {
        <button type="button" class="reaction" class:mine=mine aria-pressed=mine.to_string()
            aria-label=label.clone() title=label disabled=move || !enabled.get()
            on:click=move |_| on_toggle(emoji.clone(), !mine)>
            <span aria-hidden="true">{reaction.emoji.clone()}</span>
            <span class="count" aria-hidden="true">{count}</span>
        </button>
    }
}

/// The quick reactions, and any other emoji typed or pasted (the system's
/// emoji keyboard does the picking; the server takes only real emoji).
#[component]
fn EmojiPicker(pick: impl Fn(String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let other = RwSignal::new(String::new());
    let id = format!("emoji-{}", crate::ui::live::new_client_id().as_str());
    view! {
        <div class="emoji-picker" role="group" aria-label=t!(i18n, react)>
            {QUICK_REACTIONS.into_iter().map(|emoji| view! {
                <button type="button" class="icon-button" aria-label=move || (i18n.t().react_with)(emoji)
                    on:click=move |_| pick(emoji.to_owned())>{emoji}</button>
            }).collect_view()}
            <form on:submit=move |ev| {
                ev.prevent_default();
                let emoji = other.get_untracked();
                if !emoji.trim().is_empty() {
                    pick(emoji.trim().to_owned());
                }
            }>
                <label for=id.clone()>{t!(i18n, any_emoji)}</label>
                <input id=id type="text" maxlength="16" size="4" autocomplete="off"
                    prop:value=move || other.get() on:input=move |ev| other.set(event_target_value(&ev)) />
                <button type="submit" class="button subtle small">{t!(i18n, add_reaction)}</button>
            </form>
        </div>
    }
}

/// The editor that replaces a message's text: Enter saves, Escape cancels.
#[component]
fn EditForm(
    state: RoomState,
    seq: Seq,
    body: String,
    done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let text = RwSignal::new(body);
    let error = RwSignal::new(None::<AppError>);
    let id = format!("edit-{seq}");
    let room = state.id;
    let save = move || {
        let body = text.get_untracked();
        if let Err(problem) = MessageBody::parse(&body) {
            error.set(Some(AppError::field(Field::Message, problem)));
            return;
        }
        leptos::task::spawn_local(async move {
            match edit_message(room, seq, body).await {
                Ok(()) => done(),
                Err(refused) => error.set(Some(refused)),
            }
        });
    };
    let input = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    view! {
        <form class="edit-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
            <label for=id.clone() class="visually-hidden">{t!(i18n, edit_label)}</label>
            <textarea id=id node_ref=input rows="2" prop:value=move || text.get()
                aria-invalid=move || error.get().is_some().to_string()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        save();
                    } else if ev.key() == "Escape" {
                        done();
                    }
                }></textarea>
            <p class="field-error" role="alert">{move || error.get().map(|e| i18n.t().error_at(&e, Field::Message))}</p>
            <div class="edit-actions">
                <button type="submit" class="button primary small">{t!(i18n, save)}</button>
                <button type="button" class="button subtle small" on:click=move |_| done()>{t!(i18n, cancel)}</button>
            </div>
        </form>
    }
}

/// The message a reply answers: activating it shows that message.
#[component]
pub(super) fn QuoteView(state: RoomState, quote: Quote) -> impl IntoView {
    let i18n = use_i18n();
    let seq = quote.seq;
    let author = quote.author.clone();
    let text = if quote.deleted { None } else { Some(quote.text.clone()) };
    view! {
        <button type="button" class="quote" aria-label=move || (i18n.t().go_to_quote)(&author)
            on:click=move |_| state.show_message(seq)>
            <strong>{quote.author.clone()}</strong>
            {match text {
                Some(text) => view! { <span>{text}</span> }.into_any(),
                None => view! { <span class="muted">{t!(i18n, message_deleted)}</span> }.into_any(),
            }}
        </button>
    }
}
