//! The signed-in home page.

use crate::i18n::use_i18n;
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::session::use_session;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    move || {
        session.current().map(|account| {
            let profile = account.public();
            let name = profile.shown_name().to_owned();
            view! {
                <Title text="Salon" />
                <section class="card hero">
                    <Avatar profile=profile.clone() size="lg" />
                    <div>
                        <h1>{move || (i18n.t().welcome)(&name)}</h1>
                        <p class="muted">
                            {t!(i18n, signed_in_as)}" "
                            <A href=format!("/u/{}", account.username)>"@"{account.username.clone()}</A>
                        </p>
                    </div>
                </section>
                <section class="card">
                    <h2>{t!(i18n, home_next_title)}</h2>
                    <p>{t!(i18n, home_lead)}</p>
                    <ul class="roadmap">
                        <li>{t!(i18n, home_next_rooms)}</li>
                        <li>{t!(i18n, home_next_dms)}</li>
                        <li>{t!(i18n, home_next_friends)}</li>
                    </ul>
                </section>
            }
        })
    }
}
