//! Sign-in and registration.

use crate::api::{
    join_link_invitation, reset_by_mail, reset_check, sign_up_mode, ResetPassword, ResetRequest,
};
use crate::domain::{JoinInvitation, SignUp};
use crate::error::{AppError, Field};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::form::{checks, field_problem, form_error, FormError, SubmitButton, TextField};
use crate::ui::session::{use_session, RequireVisitor};
use crate::ui::shell::{LanguageSelect, Logo, PageTitle};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The frame of the sign-in and registration pages.
#[component]
fn AuthCard(
    title: fn(&crate::i18n::Texts) -> &'static str,
    /// The line under the title, unless the children have their own.
    #[prop(optional)]
    lead: Option<fn(&crate::i18n::Texts) -> &'static str>,
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
                {lead.map(|lead| view! { <p class="lead">{move || lead(i18n.t())}</p> })}
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
                <A href="/forgot">{t!(i18n, forgot_password)}</A>
            </p>
            <p class="switch">
                {t!(i18n, no_account)}" "
                <A href=register_href>{t!(i18n, register)}</A>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let i18n = use_i18n();
    let mode = Resource::new(|| (), |_| sign_up_mode());
    // The mode is read outside `RequireVisitor`, whose children are made
    // again each time the session is read again (after a refused
    // registration too): the form inside must stay as typed.
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match mode.await {
                    Ok(SignUp::JoinLink) => view! {
                        <RequireVisitor><NoSignUp title=|t| t.register_title why=|t| t.join_link_required /></RequireVisitor>
                    }.into_any(),
                    Ok(SignUp::Closed) => view! {
                        <RequireVisitor><NoSignUp title=|t| t.register_title why=|t| t.sign_up_closed /></RequireVisitor>
                    }.into_any(),
                    Ok(SignUp::Open) => view! {
                        <RequireVisitor>
                            <AuthCard title=|t| t.register_title lead=|t| t.register_lead>
                                <RegisterForm join=None />
                            </AuthCard>
                        </RequireVisitor>
                    }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{i18n.t().error(&error)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/join/CODE`: who invites the visitor, and the registration form that
/// uses the link; or why the link no longer works.
#[component]
pub fn JoinPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let code = move || params.with(|p| p.get("code").unwrap_or_default());
    let invitation = Resource::new(code, join_link_invitation);
    // Outside `RequireVisitor`, as on the registration page.
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match invitation.await {
                    Ok(JoinInvitation { made_by, usable: true }) => {
                        // Copied into the children, which are made again each time.
                        let (who, code) = (StoredValue::new(made_by.shown_name().to_owned()), StoredValue::new(code()));
                        view! {
                            <RequireVisitor>
                                <AuthCard title=|t| t.join_title>
                                    <JoinLead who=who.get_value() />
                                    <RegisterForm join=Some(code.get_value()) />
                                </AuthCard>
                            </RequireVisitor>
                        }.into_any()
                    }
                    Ok(_) | Err(AppError::NotFound) => view! {
                        <RequireVisitor><NoSignUp title=|t| t.join_unusable_title why=|t| t.join_link_unusable /></RequireVisitor>
                    }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{i18n.t().error(&error)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Who invites the visitor.
#[component]
fn JoinLead(who: String) -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="lead">{move || (i18n.t().join_lead)(&who)}</p> }
}

/// `/reset/TOKEN`: a new password, with a one-time link an administrator
/// made; or why the link no longer works.
#[component]
pub fn ResetPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let valid = Resource::new(token, reset_check);
    let action = ServerAction::<ResetPassword>::new();
    let value = move || action.value().get();
    view! {
        <RequireVisitor>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match valid.await {
                        Ok(()) => view! {
                            <AuthCard title=|t| t.reset_title lead=|t| t.reset_lead>
                                <Show when=move || !matches!(value(), Some(Ok(())))
                                    fallback=move || view! {
                                        <p class="form-success" role="status">{t!(i18n, password_reset_done)}</p>
                                        <SignInInstead />
                                    }>
                                    <ActionForm action=action attr:class="form" attr:novalidate=true>
                                        <FormError error=form_error(value) />
                                        <input type="hidden" name="token" value=token() />
                                        <TextField name="password" label=|t| t.new_password hint=|t| t.password_hint kind="password" autocomplete="new-password" check=checks::password problem=field_problem(value, Field::Password) />
                                        <TextField name="password_confirm" label=|t| t.new_password_confirm kind="password" autocomplete="new-password" problem=field_problem(value, Field::PasswordConfirm) />
                                        <SubmitButton label=|t| t.set_new_password pending_label=|t| t.saving pending=action.pending() />
                                    </ActionForm>
                                </Show>
                            </AuthCard>
                        }.into_any(),
                        Err(AppError::NotFound) => view! {
                            <NoSignUp title=|t| t.join_unusable_title why=|t| t.reset_unusable />
                        }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{i18n.t().error(&error)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </RequireVisitor>
    }
}

/// `/forgot`: a reset link by mail when the server sends mail; otherwise
/// whom to ask.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let i18n = use_i18n();
    let by_mail = Resource::new(|| (), |_| reset_by_mail());
    let action = ServerAction::<ResetRequest>::new();
    let value = move || action.value().get();
    view! {
        <RequireVisitor>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match by_mail.await {
                        Ok(true) => view! {
                            <AuthCard title=|t| t.forgot_title lead=|t| t.forgot_lead>
                                <Show when=move || !matches!(value(), Some(Ok(())))
                                    fallback=move || view! { <p class="form-success" role="status">{t!(i18n, reset_mail_sent)}</p> }>
                                    <ActionForm action=action attr:class="form" attr:novalidate=true>
                                        <FormError error=form_error(value) />
                                        <TextField name="email" label=|t| t.email kind="email" autocomplete="email" check=checks::email problem=field_problem(value, Field::Email) />
                                        <SubmitButton label=|t| t.send_reset_link pending_label=|t| t.sending pending=action.pending() />
                                    </ActionForm>
                                </Show>
                                <SignInInstead />
                            </AuthCard>
                        }.into_any(),
                        Ok(false) => view! { <NoSignUp title=|t| t.forgot_title why=|t| t.ask_an_admin /> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{i18n.t().error(&error)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </RequireVisitor>
    }
}

/// For those who cannot register here: why, and the way to sign in.
#[component]
fn NoSignUp(
    title: fn(&crate::i18n::Texts) -> &'static str,
    why: fn(&crate::i18n::Texts) -> &'static str,
) -> impl IntoView {
    view! {
        <AuthCard title lead=why>
            <SignInInstead />
        </AuthCard>
    }
}

/// The way to sign in instead.
#[component]
fn SignInInstead() -> impl IntoView {
    let i18n = use_i18n();
    let login_href = with_next("/login");
    view! {
        <p class="switch">
            {t!(i18n, have_account)}" "
            <A href=login_href>{t!(i18n, sign_in)}</A>
        </p>
    }
}

/// The registration form; with a join link's code (`join`) when it is
/// reached through one.
#[component]
fn RegisterForm(join: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let action = use_session().register;
    let value = move || action.value().get();
    let link_problem = move || match value() {
        Some(Err(error)) => error.problem_for(Field::JoinLink).map(|problem| i18n.t().problem(problem)),
        _ => None,
    };
    view! {
        <ActionForm action=action attr:class="form" attr:novalidate=true>
            {move || link_problem().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <Show when=move || link_problem().is_none()>
                <FormError error=form_error(value) />
            </Show>
            {join.map(|code| view! { <input type="hidden" name="join" value=code /> })}
            <TextField name="username" label=|t| t.username hint=|t| t.username_hint autocomplete="username" check=checks::username problem=field_problem(value, Field::Username) />
            <TextField name="email" label=|t| t.email kind="email" autocomplete="email" check=checks::email problem=field_problem(value, Field::Email) />
            <TextField name="password" label=|t| t.password hint=|t| t.password_hint kind="password" autocomplete="new-password" check=checks::password problem=field_problem(value, Field::Password) />
            <TextField name="password_confirm" label=|t| t.password_confirm kind="password" autocomplete="new-password" problem=field_problem(value, Field::PasswordConfirm) />
            <SubmitButton label=|t| t.register pending_label=|t| t.registering pending=action.pending() />
        </ActionForm>
        <SignInInstead />
    }
}
