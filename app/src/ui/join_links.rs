//! The join links card: make a link (expiry, maximum uses), see one's
//! links (an admin: everyone's) with their URL, QR code and uses, copy or
//! revoke them. Shown on `/admin`, and on `/friends` when the server lets
//! members make links (or they still have some).

use crate::api::{join_link_revoke, my_join_links, JoinLinkMake};
use crate::domain::{JoinLink, JoinLinkExpiry, JoinLinkState, JoinLinks};
use crate::error::{AppError, Field};
use crate::i18n::{use_i18n, Texts};
use crate::t;
use crate::ui::form::{field_problem, SubmitButton, TextField};
use crate::ui::render_loads::once_per_render;
use crate::ui::time::LocalTime;
use leptos::prelude::*;

/// The card's data: made where the page's other resources are (at the
/// top of the page's component, not inside a `Suspend`, where a resource
/// made during hydration would not be the one the server filled in).
#[derive(Clone, Copy)]
pub struct JoinLinksData {
    links: Resource<Result<JoinLinks, AppError>>,
    make: ServerAction<JoinLinkMake>,
    /// Bumped by each revocation: the list is read again.
    revoked: RwSignal<u32>,
}

impl JoinLinksData {
    /// Starts loading the user's links (a resource, so not a `Default`).
    pub fn load() -> Self {
        let make = ServerAction::<JoinLinkMake>::new();
        let revoked = RwSignal::new(0u32);
        let links = Resource::new(
            move || (make.version().get(), revoked.get()),
            |_| once_per_render("my_join_links", my_join_links),
        );
        Self { links, make, revoked }
    }
}

#[component]
pub fn JoinLinksCard(data: JoinLinksData) -> impl IntoView {
    let i18n = use_i18n();
    let JoinLinksData { links, make, revoked } = data;
    // The links' origin: the browser's (the server may be reached by
    // several names); the path alone until the page runs.
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Ok(here) = window().location().origin() {
            origin.set(here);
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match links.await {
                    Ok(JoinLinks { links, may_make, now }) if may_make || !links.is_empty() => {
                        let empty = links.is_empty();
                        view! {
                            <section class="card" aria-labelledby="join-links-title">
                                <h2 id="join-links-title">{t!(i18n, join_links)}</h2>
                                <p class="muted">{t!(i18n, join_links_lead)}</p>
                                {may_make.then(|| view! { <MakeForm make /> })}
                                {empty.then(|| view! { <p class="muted">{t!(i18n, no_join_links)}</p> })}
                                <ul class="join-links" aria-label=t!(i18n, join_links)>
                                    {links.into_iter().map(|link| view! { <LinkRow link now origin revoked /> }).collect_view()}
                                </ul>
                            </section>
                        }
                        .into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MakeForm(make: ServerAction<JoinLinkMake>) -> impl IntoView {
    let i18n = use_i18n();
    let value = move || make.value().get();
    let general = move || match value() {
        Some(Err(error)) if error.problem_for(Field::MaxUses).is_none() => {
            Some(i18n.t().error_at(&error, Field::JoinLink))
        }
        _ => None,
    };
    let label = |expiry: JoinLinkExpiry| -> fn(&Texts) -> &'static str {
        match expiry {
            JoinLinkExpiry::Hour => |t| t.expiry_hour,
            JoinLinkExpiry::Day => |t| t.expiry_day,
            JoinLinkExpiry::Week => |t| t.expiry_week,
            JoinLinkExpiry::Month => |t| t.expiry_month,
            JoinLinkExpiry::Never => |t| t.expiry_never,
        }
    };
    view! {
        <ActionForm action=make attr:class="form join-link-form" attr:novalidate=true>
            {move || general().map(|error| view! { <p class="form-error" role="alert">{error}</p> })}
            <div class="field">
                <label for="join-link-expiry">{t!(i18n, join_link_expiry)}</label>
                <select id="join-link-expiry" name="expiry">
                    {JoinLinkExpiry::ALL.into_iter().map(|expiry| {
                        let text = label(expiry);
                        view! {
                            <option value=expiry.as_str() selected=expiry == JoinLinkExpiry::default()>
                                {move || text(i18n.t())}
                            </option>
                        }
                    }).collect_view()}
                </select>
            </div>
            <TextField name="max_uses" label=|t| t.join_link_max_uses hint=|t| t.join_link_max_uses_hint
                kind="number" problem=field_problem(value, Field::MaxUses) />
            <SubmitButton label=|t| t.make_join_link pending_label=|t| t.making_join_link pending=make.pending() />
        </ActionForm>
    }
}

/// One link: its URL (copied with a button), who made it, its uses and
/// expiry, its QR code on demand, and the button that revokes it.
#[component]
fn LinkRow(link: JoinLink, now: i64, origin: RwSignal<String>, revoked: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let path = link.path();
    let url = {
        let path = path.clone();
        move || format!("{}{path}", origin.get())
    };
    let state = link.state(now);
    let qr = format!("{path}/qr.svg");
    let copied = RwSignal::new(false);
    let qr_shown = RwSignal::new(false);
    let copy = {
        let url = url.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().navigator().clipboard().write_text(&url());
                copied.set(true);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &url;
        }
    };
    let code = link.code.clone();
    let revoke = Action::new(move |_: &()| {
        let code = code.clone();
        async move {
            let done = join_link_revoke(code).await;
            if done.is_ok() {
                revoked.update(|n| *n += 1);
            }
            done
        }
    });
    let failed = move || revoke.value().get().and_then(Result::err).map(|e: AppError| i18n.t().error(&e));
    let tag = match state {
        JoinLinkState::Usable => None,
        JoinLinkState::Expired => Some(i18n.t().link_expired),
        JoinLinkState::UsedUp => Some(i18n.t().link_used_up),
        JoinLinkState::Revoked => Some(i18n.t().link_revoked),
    };
    let (uses, max_uses) = (link.uses, link.max_uses);
    let maker = link.made_by.username.clone();
    view! {
        <li class="join-link" class:inactive=tag.is_some()>
            <div class="join-link-main">
                <code class="join-link-url">{url}</code>
                <span class="muted small">
                    {t!(i18n, made_by)}" @"{maker}" · "{move || (i18n.t().join_link_uses)(uses, max_uses)}" · "
                    {match link.expires_at {
                        Some(ms) => view! { {t!(i18n, expires)}" "<LocalTime ms dated=true /> }.into_any(),
                        None => view! { {t!(i18n, never_expires)} }.into_any(),
                    }}
                </span>
                <p class="field-error" role="alert">{failed}</p>
            </div>
            {tag.map(|text| view! { <span class="tag">{text}</span> })}
            {tag.is_none().then(|| view! {
                <div class="join-link-actions">
                    <button type="button" class="button subtle small" on:click=copy>
                        {move || if copied.get() { i18n.t().copied } else { i18n.t().copy_link }}
                    </button>
                    <button type="button" class="button subtle small" aria-expanded=move || qr_shown.get().to_string()
                        on:click=move |_| qr_shown.update(|shown| *shown = !*shown)>
                        {t!(i18n, show_qr_code)}
                    </button>
                    <button type="button" class="button subtle small danger" disabled=move || revoke.pending().get()
                        on:click=move |_| { revoke.dispatch(()); }>
                        {t!(i18n, revoke_link)}
                    </button>
                </div>
            })}
            <Show when=move || qr_shown.get()>
                <img class="join-link-qr" src=qr.clone() alt=t!(i18n, join_link_qr) width="192" height="192" />
            </Show>
        </li>
    }
}
