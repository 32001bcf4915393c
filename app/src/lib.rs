#![recursion_limit = "512"]

//! Salon's shared crate: what the server and the browser both compile.
//!
//! - [`domain`]: types and validation rules, on both sides;
//! - [`error`]: the one error type server functions return;
//! - [`i18n`]: every UI text in English and French;
//! - [`api`]: server functions, thin adapters over the services;
//! - [`services`] and [`store`] (server only): the rules, and SQL;
//! - [`ui`]: pages and components.

pub mod api;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod store;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};
use ui::pages::{
    auth::LoginPage, auth::RegisterPage, home::HomePage, not_found::NotFound, profile::ProfilePage,
    room::RoomPage, user::UserPage,
};
use ui::shell::AppShell;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_security_headers();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Content-Security-Policy with this response's nonce (Leptos puts it on
/// its inline hydration scripts), plus the framing and sniffing defences.
#[cfg(feature = "ssr")]
fn set_page_security_headers() {
    use http::header::{HeaderName, HeaderValue, CONTENT_SECURITY_POLICY};
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string()).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
    response.insert_header(HeaderName::from_static("cache-control"), HeaderValue::from_static("no-store"));
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let i18n = i18n::provide_i18n();
    ui::session::provide_session();

    view! {
        <Html attr:lang=move || i18n.lang.get().code() />
        <Stylesheet id="leptos" href="/pkg/salon.css" />
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Link rel="manifest" href="/manifest.webmanifest" />
        <Meta name="theme-color" content="#4f46e5" />
        // A plain string, as for titles (see `ui::shell::PageTitle`).
        {move || view! { <Meta name="description" content=i18n.t().tagline /> }}
        <Title text="Salon" />
        <Router>
            <Routes fallback=NotFound>
                // Async rendering: the guards decide before anything is
                // sent, so a redirect is a real HTTP redirect.
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("profile") view=ProfilePage />
                    <Route path=path!("rooms/:id") view=RoomPage />
                    <Route path=path!("u/:username") view=UserPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
