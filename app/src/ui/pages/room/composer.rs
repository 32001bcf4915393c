//! Who is typing, and the composer.

use super::attachments::{UploadTray, Uploads};
use super::state::{now_ms, RoomState};
use crate::domain::protocol::ClientFrame;
use crate::domain::MessageBody;
use crate::error::Problem;
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::live::new_client_id;
use leptos::prelude::*;

/// How often "is typing" is sent while typing, in ms.
const TYPING_EVERY_MS: f64 = 3000.0;

#[component]
pub(super) fn TypingLine(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="typing" aria-live="polite">
            {move || {
                let names: Vec<String> = state.live.pending.with(|pending| {
                    state.model.with(|m| {
                        m.typing
                            .iter()
                            .filter(|typist| !pending.blocked.contains(&typist.user))
                            .map(|typist| typist.name.clone())
                            .collect()
                    })
                });
                (i18n.t().typing)(&names)
            }}
        </p>
    }
}

#[component]
pub(super) fn Composer(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let problem = RwSignal::new(None::<Problem>);
    let last_typing = StoredValue::new(0.0);
    let text = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Textarea>::new();
    let uploads = Uploads::new(state.id);
    // Sending was asked for while files were still uploading.
    let waiting = RwSignal::new(false);
    let dropping = RwSignal::new(false);
    // The mention being typed: where its `@` is, and the option chosen.
    let mention = RwSignal::new(None::<MentionDraft>);
    let options = Memo::new(move |_| match mention.get() {
        Some(draft) => suggestions(&state, &draft.prefix),
        None => Vec::new(),
    });
    let pick = move |username: String| {
        let Some(draft) = mention.get_untracked() else { return };
        let caret = draft.at + 1 + draft.prefix.len();
        text.update(|text| {
            if text.is_char_boundary(draft.at) && text.is_char_boundary(caret) && caret <= text.len() {
                text.replace_range(draft.at..caret, &format!("@{username} "));
            }
        });
        mention.set(None);
        if let Some(input) = input.get_untracked() {
            let _ = input.focus();
            let caret = (draft.at + username.len() + 2) as u32;
            let _ = input.set_selection_range(caret, caret);
        }
    };
    let submit = move || {
        let body = text.get_untracked();
        if uploads.busy() {
            waiting.set(true);
            return;
        }
        waiting.set(false);
        let files = uploads.done();
        match MessageBody::parse_beside_files(&body, files.len()) {
            Err(refused) => problem.set(Some(refused)),
            Ok(body) => {
                problem.set(None);
                let reply_to = state.replying.get_untracked().map(|quote| quote.seq);
                state.post(new_client_id(), body.as_str().to_owned(), reply_to, files);
                uploads.clear();
                state.replying.set(None);
                mention.set(None);
                text.set(String::new());
                last_typing.set_value(0.0);
            }
        }
    };
    // Sent while files were uploading: it goes once they are all there
    // (not if one failed: its error says so, and the user decides).
    Effect::new(move |_| {
        let (uploading, failed) = uploads.progress();
        if waiting.get() && !uploading {
            if failed {
                waiting.set(false);
            } else {
                submit();
            }
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let choices = options.get_untracked();
        if let Some(draft) = mention.get_untracked().filter(|_| !choices.is_empty()) {
            let chosen = draft.chosen.min(choices.len() - 1);
            match ev.key().as_str() {
                "ArrowDown" | "ArrowUp" => {
                    ev.prevent_default();
                    let step = if ev.key() == "ArrowDown" { 1 } else { choices.len() - 1 };
                    mention.set(Some(MentionDraft { chosen: (chosen + step) % choices.len(), ..draft }));
                    return;
                }
                "Enter" | "Tab" if !ev.is_composing() => {
                    ev.prevent_default();
                    pick(choices[chosen].0.clone());
                    return;
                }
                "Escape" => {
                    mention.set(None);
                    return;
                }
                _ => {}
            }
        }
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        } else if ev.key() == "Escape" {
            state.replying.set(None);
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        let caret = input.get_untracked().and_then(|input| input.selection_start().ok().flatten());
        let draft = caret.and_then(|caret| text.with_untracked(|text| mention_draft(text, caret as usize)));
        mention.set(draft);
        if problem.get_untracked().is_some() {
            problem.set(MessageBody::parse_beside_files(&text.get_untracked(), uploads.done().len()).err());
        }
        let now = now_ms();
        if now - last_typing.get_value() > TYPING_EVERY_MS {
            last_typing.set_value(now);
            state.live.send(&ClientFrame::Typing { room: state.id });
        }
    };
    let label = move || (i18n.t().message_label)(&state.summary.with(|s| s.title().to_owned()));
    let add_files = move |files: Option<web_sys::FileList>| {
        waiting.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(files) = files {
            uploads.add(files, state.live.max_upload.get_untracked());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = files;
    };
    let on_pick = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(picker) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        add_files(picker.files());
        // The same file can be picked again.
        picker.set_value("");
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        let files = ev.clipboard_data().and_then(|data| data.files()).filter(|files| files.length() > 0);
        if files.is_some() {
            ev.prevent_default();
            add_files(files);
        }
    };
    let carries_files = |ev: &leptos::ev::DragEvent| {
        ev.data_transfer().is_some_and(|data| data.types().includes(&"Files".into(), 0))
    };
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        if carries_files(&ev) {
            ev.prevent_default();
            dropping.set(true);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        dropping.set(false);
        if carries_files(&ev) {
            ev.prevent_default();
            add_files(ev.data_transfer().and_then(|data| data.files()));
        }
    };
    view! {
        {move || if state.summary.with(|s| s.role.is_some()) {
            view! {
                <form class="composer" class:invalid=move || problem.get().is_some() class:dropping=move || dropping.get()
                    on:dragover=on_dragover on:dragleave=move |_| dropping.set(false) on:drop=on_drop
                    on:submit=move |ev| { ev.prevent_default(); submit(); }>
                    <p class="drop-hint" aria-hidden="true">{t!(i18n, drop_to_attach)}</p>
                    {move || state.replying.get().map(|quote| view! {
                        <div class="replying">
                            <span>{(i18n.t().replying_to)(&quote.author)}</span>
                            <span class="muted">{quote.text.clone()}</span>
                            <button type="button" class="icon-button" aria-label=t!(i18n, cancel_reply)
                                on:click=move |_| state.replying.set(None)>"×"</button>
                        </div>
                    })}
                    <UploadTray uploads />
                    <label for="composer-input" class="visually-hidden">{label}</label>
                    {move || (!options.get().is_empty()).then(|| {
                        let chosen = mention.get().map_or(0, |draft| draft.chosen);
                        view! {
                            <ul class="mention-options" id="mention-options" role="listbox" aria-label=t!(i18n, mention_someone)>
                                {options.get().into_iter().enumerate().map(|(n, (username, name))| {
                                    let chosen = n == chosen.min(options.get_untracked().len() - 1);
                                    let picked = username.clone();
                                    view! {
                                        <li role="option" id=format!("mention-option-{n}") aria-selected=chosen.to_string()
                                            on:mousedown=move |ev| { ev.prevent_default(); pick(picked.clone()); }>
                                            <strong>"@"{username}</strong>
                                            <span class="muted">{name}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                    })}
                    <label class="icon-button attach" title=t!(i18n, attach_files)>
                        <input type="file" multiple class="visually-hidden" aria-label=t!(i18n, attach_files)
                            on:change=on_pick />
                        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none"
                            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                            <path d="m21 11-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7" />
                        </svg>
                    </label>
                    <textarea id="composer-input" rows="1" placeholder=label node_ref=input
                        aria-autocomplete="list" aria-controls="mention-options"
                        aria-expanded=move || (!options.get().is_empty()).to_string()
                        aria-describedby="composer-hint composer-error"
                        aria-invalid=move || problem.get().is_some().to_string()
                        prop:value=move || text.get()
                        on:input=on_input on:keydown=on_keydown on:paste=on_paste></textarea>
                    <button type="submit" class="button primary">{t!(i18n, send)}</button>
                    <p id="composer-error" class="field-error" class:waiting=move || waiting.get() aria-live="polite">{move || {
                        if waiting.get() {
                            return Some(i18n.t().wait_for_uploads.to_owned());
                        }
                        problem.get().map(|p| match p {
                            Problem::Required => i18n.t().empty_message.to_owned(),
                            other => i18n.t().problem(&other),
                        })
                    }}</p>
                    <p id="composer-hint" class="hint">{t!(i18n, composer_hint)}</p>
                </form>
            }.into_any()
        } else {
            view! { <p class="join-hint muted">{t!(i18n, join_to_chat)}</p> }.into_any()
        }}
    }
}

/// A mention being typed: the `@` at byte `at`, the name so far, and
/// which suggestion is chosen.
#[derive(Clone, Debug, PartialEq)]
struct MentionDraft {
    at: usize,
    prefix: String,
    chosen: usize,
}

/// The mention the caret (a UTF-16 offset, as the browser gives it) is at
/// the end of, if any: an `@` that starts a word, then name characters.
fn mention_draft(text: &str, caret_utf16: usize) -> Option<MentionDraft> {
    let mut units = 0;
    let caret = text.char_indices().map(|(at, c)| {
        let before = units;
        units += c.len_utf16();
        (at, before)
    });
    let caret = caret
        .take_while(|&(_, before)| before < caret_utf16)
        .last()
        .map_or(0, |(at, _)| at + text[at..].chars().next().map_or(0, char::len_utf8));
    let before = &text[..caret];
    let at = before.rfind('@')?;
    let prefix = &before[at + 1..];
    let name_so_far = prefix.chars().all(crate::domain::is_username_char);
    let starts_word =
        before[..at].chars().next_back().is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c));
    (name_so_far && starts_word && prefix.len() <= crate::domain::USERNAME_MAX).then(|| MentionDraft {
        at,
        prefix: prefix.to_owned(),
        chosen: 0,
    })
}

/// The room's members whose username or name starts with `prefix`: their
/// usernames and shown names, at most six, the reader left out.
fn suggestions(state: &RoomState, prefix: &str) -> Vec<(String, String)> {
    let prefix = prefix.to_lowercase();
    state.members.with(|members| {
        members
            .iter()
            .map(|member| &member.profile)
            .filter(|profile| Some(profile.id) != state.me)
            .filter(|profile| {
                profile.username.to_lowercase().starts_with(&prefix)
                    || profile.display_name.to_lowercase().starts_with(&prefix)
            })
            .take(6)
            .map(|profile| (profile.username.clone(), profile.shown_name().to_owned()))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::mention_draft;

    #[test]
    fn the_mention_being_typed_is_found_before_the_caret() {
        let draft = |text: &str| mention_draft(text, text.encode_utf16().count()).map(|d| (d.at, d.prefix));
        assert_eq!(draft("hi @bo"), Some((3, "bo".into())));
        assert_eq!(draft("@"), Some((0, String::new())));
        assert_eq!(draft("é @al"), Some((3, "al".into())));
        assert_eq!(draft("mail@bo"), None);
        assert_eq!(draft("@bob and"), None);
        assert_eq!(mention_draft("@bob and", 4).map(|d| d.prefix), Some("bob".into()));
    }
}
