//! Sign-in and registration.

use crate::error::Field;
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::form::{checks, field_problem, form_error, FormError, SubmitButton, TextField};
use crate::ui::session::{use_session, RequireVisitor};
use crate::ui::shell::{LanguageSelect, Logo, PageTitle};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// The frame of the sign-in and registration pages.
#[component]
fn AuthCard(
    title: fn(&crate::i18n::Texts) -> &'static str,
    lead: fn(&crate::i18n::Texts) -> &'static str,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageTitle text=title />
        <main class="auth">
            <div class="auth-card">
                <div class="auth-brand">
                    <Logo />
                    <span>{t!(i18n, app_name)}</span>
                </div>
                <h1>{move || title(i18n.t())}</h1>
                <p class="lead">{move || lead(i18n.t())}</p>
                {children()}
            </div>
            <footer class="auth-footer">
                <p>{t!(i18n, tagline)}</p>
                <LanguageSelect />
            </footer>
        </main>
    }
}

/// Keeps `?next=` when moving between sign-in and registration.
fn with_next(path: &'static str) -> impl Fn() -> String + Send + Sync + Clone {
    let query = use_query_map();
    move || match query.get().get("next") {
        Some(next) => format!(
            "{path}?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
        None => path.to_owned(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <RequireVisitor>
            <LoginForm />
        </RequireVisitor>
    }
}

#[component]
fn LoginForm() -> impl IntoView {
    let i18n = use_i18n();
    let action = use_session().login;
    let value = move || action.value().get();
    let register_href = with_next("/register");
    view! {
        <AuthCard title=|t| t.sign_in_title lead=|t| t.sign_in_lead>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormError error=form_error(value) />
                <TextField name="login" label=|t| t.login_label autocomplete="username" problem=field_problem(value, Field::Login) />
                <TextField name="password" label=|t| t.password kind="password" autocomplete="current-password" problem=field_problem(value, Field::Password) />
                <SubmitButton label=|t| t.sign_in pending_label=|t| t.signing_in pending=action.pending() />
            </ActionForm>
            <p class="switch">
                {t!(i18n, no_account)}" "
                <A href=register_href>{t!(i18n, register)}</A>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <RequireVisitor>
            <RegisterForm />
        </RequireVisitor>
    }
}

#[component]
fn RegisterForm() -> impl IntoView {
    let i18n = use_i18n();
    let action = use_session().register;
    let value = move || action.value().get();
    let login_href = with_next("/login");
    view! {
        <AuthCard title=|t| t.register_title lead=|t| t.register_lead>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormError error=form_error(value) />
                <TextField name="username" label=|t| t.username hint=|t| t.username_hint autocomplete="username" check=checks::username problem=field_problem(value, Field::Username) />
                <TextField name="email" label=|t| t.email kind="email" autocomplete="email" check=checks::email problem=field_problem(value, Field::Email) />
                <TextField name="password" label=|t| t.password hint=|t| t.password_hint kind="password" autocomplete="new-password" check=checks::password problem=field_problem(value, Field::Password) />
                <TextField name="password_confirm" label=|t| t.password_confirm kind="password" autocomplete="new-password" problem=field_problem(value, Field::PasswordConfirm) />
                <SubmitButton label=|t| t.register pending_label=|t| t.registering pending=action.pending() />
            </ActionForm>
            <p class="switch">
                {t!(i18n, have_account)}" "
                <A href=login_href>{t!(i18n, sign_in)}</A>
            </p>
        </AuthCard>
    }
}
