//! My profile: avatar, display name and email, notifications, password,
//! my data (export, account deletion).

use crate::api::{upload_avatar, ChangePassword, DeleteAccount, UpdateProfile};
use crate::domain::AVATAR_MAX_BYTES;
use crate::error::{AppError, Field, Problem};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::form::{checks, field_problem, form_error, FormError, FormSuccess, SubmitButton, TextField};
use crate::ui::push::NotificationsCard;
use crate::ui::session::use_session;
use crate::ui::shell::PageTitle;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{FormData, HtmlFormElement, HtmlInputElement};

#[component]
pub fn ProfilePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageTitle text=|t| t.profile_title />
        <h1 class="page-title">{t!(i18n, profile_title)}</h1>
        <div class="profile-grid">
            <AvatarCard />
            <div class="stack">
                <DetailsCard />
                <NotificationsCard />
                <PasswordCard />
                <DataCard />
            </div>
        </div>
    }
}

#[component]
fn AvatarCard() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let upload = Action::new_local(|data: &FormData| upload_avatar(data.clone().into()));
    // A file refused in the browser before any upload.
    let refused = RwSignal::new(None::<Problem>);
    let value = move || upload.value().get();
    Effect::new(move |_| {
        if let Some(Ok(account)) = upload.value().get() {
            session.edited(account);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok()) else { return };
        let file = form
            .elements()
            .named_item("avatar")
            .and_then(|input| input.dyn_into::<HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        let problem = match &file {
            None => Some(Problem::Required),
            Some(file) if file.size() > AVATAR_MAX_BYTES as f64 => {
                Some(Problem::ImageTooLarge { max_bytes: AVATAR_MAX_BYTES })
            }
            Some(_) => None,
        };
        refused.set(problem.clone());
        if problem.is_none() {
            if let Ok(data) = FormData::new_with_form(&form) {
                upload.dispatch_local(data);
            }
        }
    };
    let server_problem = field_problem(value, Field::Avatar);
    let problem = Signal::derive(move || refused.get().or_else(|| server_problem.get()));
    let other_error = Signal::derive(move || match value() {
        Some(Err(AppError::Invalid { .. })) | None | Some(Ok(_)) => None,
        Some(Err(error)) => Some(error),
    });
    view! {
        <section class="card avatar-card" aria-labelledby="avatar-title">
            <h2 id="avatar-title">{t!(i18n, avatar)}</h2>
            <div class="avatar-preview">
                {move || session.current().map(|account| view! { <Avatar profile=account.public() size="xl" /> })}
            </div>
            <form class="form" on:submit=on_submit>
                <FormError error=other_error />
                <div class="field" class:invalid=move || problem.get().is_some()>
                    <label for="field-avatar">{t!(i18n, avatar_choose)}</label>
                    <input
                        id="field-avatar"
                        name="avatar"
                        type="file"
                        accept="image/png,image/jpeg,image/webp,image/gif"
                        aria-describedby="field-avatar-hint field-avatar-error"
                        aria-invalid=move || problem.get().is_some().to_string()
                        on:change=move |_| refused.set(None)
                    />
                    <p class="hint" id="field-avatar-hint">{t!(i18n, avatar_hint)}</p>
                    <p class="field-error" id="field-avatar-error">{move || problem.get().map(|p| i18n.t().problem(&p))}</p>
                </div>
                <SubmitButton label=|t| t.avatar_upload pending_label=|t| t.avatar_uploading pending=upload.pending() />
                <FormSuccess show=Signal::derive(move || matches!(value(), Some(Ok(_))) && refused.get().is_none()) text=|t| t.avatar_updated />
            </form>
        </section>
    }
}

#[component]
fn DetailsCard() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let update = ServerAction::<UpdateProfile>::new();
    let value = move || update.value().get();
    Effect::new(move |_| {
        if let Some(Ok(account)) = update.value().get() {
            session.edited(account);
        }
    });
    // The form starts from the account as loaded; later refreshes must not
    // overwrite what the user is typing.
    let account = session.account.get_untracked().and_then(Result::ok).flatten();
    let (username, display_name, email) =
        account.map(|a| (a.username, a.display_name, a.email)).unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="details-title">
            <h2 id="details-title">{t!(i18n, profile_details)}</h2>
            <ActionForm action=update attr:class="form" attr:novalidate=true>
                <FormError error=form_error(value) />
                <TextField name="username" label=|t| t.username hint=|t| t.username_change_hint autocomplete="username" value=username check=checks::username problem=field_problem(value, Field::Username) />
                <TextField name="display_name" label=|t| t.display_name hint=|t| t.display_name_hint autocomplete="nickname" value=display_name check=checks::display_name problem=field_problem(value, Field::DisplayName) />
                <TextField name="email" label=|t| t.email kind="email" autocomplete="email" value=email check=checks::email problem=field_problem(value, Field::Email) />
                <SubmitButton label=|t| t.save pending_label=|t| t.saving pending=update.pending() />
                <FormSuccess show=Signal::derive(move || matches!(value(), Some(Ok(_)))) text=|t| t.saved />
            </ActionForm>
        </section>
    }
}

#[component]
fn PasswordCard() -> impl IntoView {
    let i18n = use_i18n();
    let change = ServerAction::<ChangePassword>::new();
    let value = move || change.value().get();
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">{t!(i18n, change_password)}</h2>
            <ActionForm action=change attr:class="form" attr:novalidate=true>
                <FormError error=form_error(value) />
                <TextField name="current_password" label=|t| t.current_password kind="password" autocomplete="current-password" problem=field_problem(value, Field::CurrentPassword) />
                <TextField name="password" label=|t| t.new_password hint=|t| t.password_hint kind="password" autocomplete="new-password" check=checks::password problem=field_problem(value, Field::Password) />
                <TextField name="password_confirm" label=|t| t.new_password_confirm kind="password" autocomplete="new-password" problem=field_problem(value, Field::PasswordConfirm) />
                <SubmitButton label=|t| t.change_password pending_label=|t| t.changing_password pending=change.pending() />
                <FormSuccess show=Signal::derive(move || matches!(value(), Some(Ok(_)))) text=|t| t.password_changed />
            </ActionForm>
        </section>
    }
}

/// My data: a download of everything Salon keeps about me, and the
/// deletion of my account (the password confirming it).
#[component]
fn DataCard() -> impl IntoView {
    let i18n = use_i18n();
    let delete = ServerAction::<DeleteAccount>::new();
    let value = move || delete.value().get();
    Effect::new(move |_| {
        if matches!(value(), Some(Ok(()))) {
            // Everything about the session changed: start afresh.
            let _ = window().location().set_href("/login");
        }
    });
    view! {
        <section class="card" aria-labelledby="data-title">
            <h2 id="data-title">{t!(i18n, your_data)}</h2>
            <p class="muted">{t!(i18n, your_data_lead)}</p>
            <a class="button" href="/api/export" download="">{t!(i18n, download_my_data)}</a>
            <h3 class="danger-title">{t!(i18n, delete_account_title)}</h3>
            <p class="muted">{t!(i18n, delete_account_lead)}</p>
            <ActionForm action=delete attr:class="form" attr:novalidate=true>
                <FormError error=form_error(value) />
                <TextField name="confirm_password" label=|t| t.your_password kind="password" autocomplete="current-password" problem=field_problem(value, Field::CurrentPassword) />
                <button type="submit" class="button danger" disabled=move || delete.pending().get()>
                    {move || if delete.pending().get() { i18n.t().deleting_account } else { i18n.t().delete_my_account }}
                </button>
            </ActionForm>
        </section>
    }
}
