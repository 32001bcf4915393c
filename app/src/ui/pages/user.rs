//! Another user's public profile: never their email.

use crate::api::user_profile;
use crate::error::AppError;
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::session::use_session;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn UserPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let params = use_params_map();
    let profile = Resource::new(move || params.get().get("username").unwrap_or_default(), user_profile);
    view! {
        <Suspense fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(profile) => {
                        let is_me = session.current().is_some_and(|me| me.id == profile.id);
                        let title = format!("{} · Salon", profile.shown_name());
                        EitherOf3::A(view! {
                            <Title text=title />
                            <section class="card profile-public">
                                <Avatar profile=profile.clone() size="xl" />
                                <h1>{profile.shown_name().to_owned()}</h1>
                                <p class="muted">"@"{profile.username.clone()}</p>
                                {is_me.then(|| view! {
                                    <p>{t!(i18n, this_is_you)}</p>
                                    <A href="/profile" attr:class="button">{t!(i18n, edit_profile)}</A>
                                })}
                            </section>
                        })
                    }
                    Err(AppError::NotFound) => EitherOf3::B(view! {
                        <section class="card"><p>{t!(i18n, user_not_found)}</p></section>
                    }),
                    Err(error) => EitherOf3::C(view! {
                        <section class="card"><p role="alert" class="form-error">{i18n.t().error(&error)}</p></section>
                    }),
                }
            })}
        </Suspense>
    }
}
