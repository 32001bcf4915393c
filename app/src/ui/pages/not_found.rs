//! The page for any URL that matches no route (HTTP 404).

use crate::i18n::use_i18n;
use crate::t;
use crate::ui::head::DocumentTitle;
use crate::ui::pwa::NotKeptOffline;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <DocumentTitle text="404 · Salon" />
        <NotKeptOffline />
        <main class="auth">
            <div class="auth-card center">
                <h1>"404"</h1>
                <p class="lead">{t!(i18n, page_not_found)}</p>
                <A href="/" attr:class="button primary">{t!(i18n, back_home)}</A>
            </div>
        </main>
    }
}
