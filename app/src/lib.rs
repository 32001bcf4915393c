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
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, Link, Meta, MetaTags};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};
use ui::head::DocumentTitle;
use ui::pages::{
    auth::ForgotPage, auth::JoinPage, auth::LoginPage, auth::RegisterPage, auth::ResetPage, friends::FriendsPage, home::HomePage, not_found::NotFound,
    admin::AdminPage, profile::ProfilePage, room::RoomPage, search::SearchPage, user::UserPage,
};
use ui::shell::AppShell;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    share_page_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                // The browser's (or the installed app's) bar, as the top bar.
                <meta name="theme-color" content="#ffffff" media="(prefers-color-scheme: light)" />
                <meta name="theme-color" content="#171a23" media="(prefers-color-scheme: dark)" />
                <AutoReload options=options.clone() />
                // Both name the built files, hashed or not (see `scripts/run.sh`).
                <HashedStylesheet id="leptos" options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Where the shell leaves the nonce of a page's inline scripts, for the
/// server to put in that page's Content-Security-Policy. The server puts an
/// empty slot in each request's extensions.
///
/// (Not through Leptos' `ResponseOptions`: under concurrent load about one
/// page in a few hundred lost the headers set there, measured with four
/// browsers loading pages in a loop; the page then could not load its
/// scripts.)
#[cfg(feature = "ssr")]
#[derive(Clone, Default)]
pub struct PageNonceSlot(pub std::sync::Arc<std::sync::OnceLock<String>>);

#[cfg(feature = "ssr")]
fn share_page_nonce() {
    let Some(parts) = use_context::<http::request::Parts>() else { return };
    let Some(slot) = parts.extensions.get::<PageNonceSlot>() else { return };
    if let Some(nonce) = leptos::nonce::use_nonce() {
        let _ = slot.0.set(nonce.to_string());
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let i18n = i18n::provide_i18n();
    ui::session::provide_session();
    ui::pwa::provide_pwa();

    view! {
        <Html attr:lang=move || i18n.lang.get().code() />
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Link rel="manifest" href="/manifest.webmanifest" />
        <Link rel="apple-touch-icon" href="/icons/icon-192.png" />
        // A plain string, as for titles (see `ui::shell::PageTitle`).
        {move || view! { <Meta name="description" content=i18n.t().tagline /> }}
        <DocumentTitle text="Salon" />
        <Router>
            <Routes fallback=NotFound>
                // Async rendering: the guards decide before anything is
                // sent, so a redirect is a real HTTP redirect.
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async />
                <Route path=path!("/join/:code") view=JoinPage ssr=SsrMode::Async />
                <Route path=path!("/reset/:token") view=ResetPage ssr=SsrMode::Async />
                <Route path=path!("/forgot") view=ForgotPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("profile") view=ProfilePage />
                    <Route path=path!("rooms/:id") view=RoomPage />
                    <Route path=path!("u/:username") view=UserPage />
                    <Route path=path!("friends") view=FriendsPage />
                    <Route path=path!("search") view=SearchPage />
                    <Route path=path!("admin") view=AdminPage />
                </ParentRoute>
            </Routes>
        </Router>
        <ui::pwa::UpdatePrompt />
    }
}
