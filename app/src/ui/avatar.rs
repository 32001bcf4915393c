//! A user's picture: the uploaded avatar, or their initials on a colour
//! derived from their id.

use crate::domain::PublicProfile;
use crate::i18n::use_i18n;
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn Avatar(profile: PublicProfile, #[prop(default = "md")] size: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let name = profile.shown_name().to_owned();
    let alt = move || (i18n.t().avatar_of)(&name);
    match profile.avatar_url() {
        Some(url) => Either::Left(view! {
            <img class=format!("avatar avatar-{size}") src=url alt=alt width="256" height="256" />
        }),
        None => Either::Right(view! {
            <span class=format!("avatar avatar-{size} hue-{}", profile.id.0.rem_euclid(8)) role="img" aria-label=alt>
                {initials(profile.shown_name())}
            </span>
        }),
    }
}

/// Up to two letters: the first of the first two words.
pub fn initials(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || matches!(c, '_' | '.' | '-'))
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials() {
        assert_eq!(super::initials("Hélène Dupont"), "HD");
        assert_eq!(super::initials("bob_smith"), "BS");
        assert_eq!(super::initials("alice"), "A");
        assert_eq!(super::initials("élise"), "É");
    }
}
