//! Who is signed in, shared by every page, and the guards that send visitors
//! to the sign-in page (and back afterwards) and signed-in users home.

use crate::api::{current_account, Login, Logout, Register};
use crate::domain::{Account, LocalPath};
use crate::error::AppError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_query_map};

#[derive(Clone, Copy)]
pub struct Session {
    pub login: ServerAction<Login>,
    pub register: ServerAction<Register>,
    pub logout: ServerAction<Logout>,
    /// Who is signed in: reloaded when that can change (sign-in, sign-up,
    /// sign-out). Blocking, so the server knows before it sends anything and
    /// can answer a guarded page with a real redirect.
    pub account: Resource<Result<Option<Account>, AppError>>,
    /// The account as the user last edited it (profile, avatar), shown
    /// without reloading — and so without re-rendering — the guarded pages.
    edited: RwSignal<Option<Account>>,
}

impl Session {
    /// The signed-in account, once loaded.
    pub fn current(&self) -> Option<Account> {
        self.edited.get().or_else(|| self.account.get().and_then(Result::ok).flatten())
    }

    /// The signed-in account, read once (outside reactive views).
    pub fn current_untracked(&self) -> Option<Account> {
        self.edited.get_untracked().or_else(|| self.account.get_untracked().and_then(Result::ok).flatten())
    }

    /// Shows the account as a server function returned it after an edit.
    pub fn edited(&self, account: Account) {
        self.edited.set(Some(account));
    }
}

pub fn provide_session() {
    let login = ServerAction::<Login>::new();
    let register = ServerAction::<Register>::new();
    let logout = ServerAction::<Logout>::new();
    let edited = RwSignal::new(None);
    let account = Resource::new_blocking(
        move || (login.version().get(), register.version().get(), logout.version().get()),
        move |_| {
            edited.set(None);
            current_account()
        },
    );
    // What this device keeps for offline use belongs to who is signed in:
    // the pages are forgotten when that changes, and at sign-out the
    // messages not sent yet too.
    Effect::watch(
        move || (login.version().get(), register.version().get(), logout.version().get()),
        |_, _, _| super::pwa::forget_pages(),
        false,
    );
    Effect::watch(move || logout.version().get(), |_, _, _| super::outbox::forget_all(), false);
    provide_context(Session { login, register, logout, account, edited });
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Sends the browser to a path of this site (an HTTP redirect when the
/// server renders the page): the only way Salon redirects, so nothing but a
/// [`LocalPath`] ever reaches a `Location` header.
#[component]
fn GoTo(path: LocalPath) -> impl IntoView {
    view! { <Redirect path=path.as_str().to_owned() /> }
}

fn login_url_for(path: &str) -> LocalPath {
    let url = if path == "/" {
        "/login".into()
    } else {
        let encoded: String = path
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("/login?next={encoded}")
    };
    LocalPath::or_home(Some(&url))
}

/// Renders its children for a signed-in user; sends anyone else to the
/// sign-in page, which brings them back here afterwards.
#[component]
pub fn RequireAccount(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let children = StoredValue::new(children);
    view! {
        <Transition>
            {move || Suspend::new(async move {
                match session.account.await {
                    Ok(Some(_)) => Either::Left(children.read_value()()),
                    _ => Either::Right(view! { <GoTo path=login_url_for(&location.pathname.get_untracked())/> }),
                }
            })}
        </Transition>
    }
}

/// Renders its children for a visitor; sends a signed-in user on to `?next=`
/// or home.
#[component]
pub fn RequireVisitor(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let children = StoredValue::new(children);
    view! {
        <Transition>
            {move || Suspend::new(async move {
                match session.account.await {
                    Ok(Some(_)) => Either::Right(view! { <GoTo path=LocalPath::or_home(query.get_untracked().get("next").as_deref())/> }),
                    _ => Either::Left(children.read_value()()),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_url_encodes_the_way_back() {
        assert_eq!(login_url_for("/").as_str(), "/login");
        assert_eq!(login_url_for("/u/bob").as_str(), "/login?next=/u/bob");
        assert_eq!(login_url_for("/a b?c").as_str(), "/login?next=/a%20b%3Fc");
        assert_eq!(login_url_for("/u/\n").as_str(), "/login?next=/u/%0A");
    }
}
