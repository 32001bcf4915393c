//! The installed app: the service worker (`/sw.js`, see the server's
//! `pwa` module) registered once the page is hydrated, the prompt when a
//! new release is ready, the "Install Salon" menu entry when the browser
//! offers installation, and the pages kept for offline starts.

use crate::i18n::use_i18n;
use crate::t;
use leptos::prelude::*;

/// What the browser says about this app, shared by the page's parts.
#[derive(Clone, Copy)]
pub struct Pwa {
    /// A new release is installed and waits for the user's go-ahead.
    update_ready: RwSignal<bool>,
    /// The browser offers installation (`beforeinstallprompt`; the offer
    /// itself is kept in the browser's part, below).
    install_offered: RwSignal<bool>,
}

/// Registers the service worker and listens to the browser (in the browser
/// only; a no-op on the server).
pub fn provide_pwa() -> Pwa {
    let pwa = Pwa { update_ready: RwSignal::new(false), install_offered: RwSignal::new(false) };
    provide_context(pwa);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::start(pwa));
    pwa
}

fn use_pwa() -> Pwa {
    expect_context::<Pwa>()
}

/// Asks the service worker to keep the page at `path` as it is now, so that
/// it opens with no network (pages opened by the router are not loaded, so
/// the worker would not see them otherwise).
pub fn keep_page(path: &str) {
    #[cfg(feature = "hydrate")]
    browser::post(&[("type", "keep"), ("path", path)]);
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Keeps each page the router shows (not the one loaded: the worker saw
/// it) and, as the app is hidden or left, the page shown then, so the
/// pages kept offline are as the user last saw them. In the browser only:
/// on the server there is nothing to keep (and a render that outlives its
/// request, its client gone, has no router to ask).
pub fn keep_shown_pages() {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        Effect::new(move |shown: Option<String>| {
            let path = location.pathname.get();
            if shown.is_some_and(|shown| shown != path) {
                keep_page(&path);
            }
            path
        });
        let hidden = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().visibility_state() == web_sys::VisibilityState::Hidden {
                keep_page(&location.pathname.get_untracked());
            }
        });
        on_cleanup(move || hidden.remove());
    }
}

/// Shows `count` on the installed app's icon (`navigator.setAppBadge`,
/// where the browser has it); none at zero.
pub fn set_badge(count: i64) {
    #[cfg(feature = "hydrate")]
    browser::set_badge(count);
    #[cfg(not(feature = "hydrate"))]
    let _ = count;
}

/// Forgets the pages kept for offline starts, the unread count on the
/// app's icon and this device's push subscription: they are one user's
/// (called when who is signed in changes).
pub fn forget_pages() {
    #[cfg(feature = "hydrate")]
    browser::forget_pages();
    crate::ui::push::forget_subscription();
}

/// Marks a page the service worker must not keep for offline starts (an
/// error: the copy kept before, if any, stays).
#[component]
pub fn NotKeptOffline() -> impl IntoView {
    view! { <leptos_meta::Meta name="salon-offline" content="skip" /> }
}

/// "A new version is ready — Reload", once one is.
#[component]
pub fn UpdatePrompt() -> impl IntoView {
    let i18n = use_i18n();
    let pwa = use_pwa();
    view! {
        <Show when=move || pwa.update_ready.get()>
            <div class="update-prompt" role="status">
                <span>{t!(i18n, new_version)}</span>
                <button type="button" class="button primary" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    browser::update();
                }>{t!(i18n, reload)}</button>
            </div>
        </Show>
    }
}

/// The user menu's "Install Salon", while the browser offers it.
#[component]
pub fn InstallItem() -> impl IntoView {
    let i18n = use_i18n();
    let pwa = use_pwa();
    view! {
        <Show when=move || pwa.install_offered.get()>
            <button type="button" class="menu-item" on:click=move |_| {
                #[cfg(feature = "hydrate")]
                browser::install();
                pwa.install_offered.set(false);
            }>{t!(i18n, install_app)}</button>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Pwa;
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{ServiceWorker, ServiceWorkerRegistration};

    const PAGES: &str = "salon-pages";

    thread_local! {
        /// The browser's `beforeinstallprompt` event, until used.
        static OFFER: std::cell::RefCell<Option<web_sys::Event>> = const { std::cell::RefCell::new(None) };
    }

    /// Shows the browser's install dialog (an offer is good for one).
    pub fn install() {
        let Some(offer) = OFFER.with_borrow_mut(Option::take) else { return };
        if let Ok(prompt) = js_sys::Reflect::get(&offer, &"prompt".into()) {
            if let Some(prompt) = prompt.dyn_ref::<js_sys::Function>() {
                let _ = prompt.call0(&offer);
            }
        }
    }

    pub fn start(pwa: Pwa) {
        let offer = window_event_listener_untyped("beforeinstallprompt", move |event| {
            // The app offers it in its menu instead of the browser's bar.
            event.prevent_default();
            OFFER.set(Some(event));
            pwa.install_offered.set(true);
        });
        let installed = window_event_listener_untyped("appinstalled", move |_| {
            OFFER.set(None);
            pwa.install_offered.set(false);
        });
        on_cleanup(move || {
            offer.remove();
            installed.remove();
        });
        let container = window().navigator().service_worker();
        // A new worker took over (the user asked for it): the page reloads
        // onto the release it serves. Not when the first worker, installed
        // by this very visit, takes the page over.
        let mut controlled = container.controller().is_some();
        listen(container.as_ref(), "controllerchange", move |_| {
            if controlled {
                let _ = window().location().reload();
            }
            controlled = true;
        });
        let registered = container.register("/sw.js");
        leptos::task::spawn_local(async move {
            let Ok(registration) = wasm_bindgen_futures::JsFuture::from(registered).await else { return };
            let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else { return };
            watch_updates(pwa, registration.clone());
            // Looks for a new release now: at each launch, not once a day.
            if let Ok(checked) = registration.update() {
                let _ = wasm_bindgen_futures::JsFuture::from(checked).await;
            }
        });
    }

    /// Shows the prompt when a new release has installed beside the one
    /// that runs this page: installed already, installing (the browser
    /// checks at each navigation, before this code runs), or found later.
    fn watch_updates(pwa: Pwa, registration: ServiceWorkerRegistration) {
        let has_controller = || window().navigator().service_worker().controller().is_some();
        let watch = move |worker: ServiceWorker| {
            let watched = worker.clone();
            listen(worker.as_ref(), "statechange", move |_| {
                if watched.state() == web_sys::ServiceWorkerState::Installed && has_controller() {
                    pwa.update_ready.set(true);
                }
            });
        };
        if registration.waiting().is_some() && has_controller() {
            pwa.update_ready.set(true);
        }
        if let Some(worker) = registration.installing() {
            watch(worker);
        }
        let found = registration.clone();
        listen(registration.as_ref(), "updatefound", move |_| {
            if let Some(worker) = found.installing() {
                watch(worker);
            }
        });
    }

    /// Tells the waiting release to take over (the page then reloads).
    pub fn update() {
        let waiting = async {
            let ready =
                wasm_bindgen_futures::JsFuture::from(window().navigator().service_worker().ready().ok()?);
            ready.await.ok()?.dyn_into::<ServiceWorkerRegistration>().ok()?.waiting()
        };
        leptos::task::spawn_local(async move {
            match waiting.await {
                Some(worker) => send(&worker, &[("type", "update")]),
                None => drop(window().location().reload()),
            }
        });
    }

    /// Posts a message of string fields to the worker controlling the page.
    pub fn post(fields: &[(&str, &str)]) {
        if let Some(worker) = window().navigator().service_worker().controller() {
            send(&worker, fields);
        }
    }

    fn send(worker: &ServiceWorker, fields: &[(&str, &str)]) {
        let message = js_sys::Object::new();
        for (key, value) in fields {
            let _ = js_sys::Reflect::set(&message, &(*key).into(), &(*value).into());
        }
        let _ = worker.post_message(&message);
    }

    pub fn set_badge(count: i64) {
        let navigator = window().navigator();
        let (name, args) = match count {
            0 => ("clearAppBadge", js_sys::Array::new()),
            count => ("setAppBadge", js_sys::Array::of1(&JsValue::from_f64(count as f64))),
        };
        if let Ok(method) = js_sys::Reflect::get(&navigator, &name.into()) {
            if let Some(method) = method.dyn_ref::<js_sys::Function>() {
                // Refused where the app is not installed: nothing to do.
                if let Ok(answer) =
                    method.apply(&navigator, &args).and_then(|a| a.dyn_into::<js_sys::Promise>())
                {
                    leptos::task::spawn_local(async move {
                        let _ = wasm_bindgen_futures::JsFuture::from(answer).await;
                    });
                }
            }
        }
    }

    pub fn forget_pages() {
        set_badge(0);
        // The worker forgets too, so that a page it is still keeping (one
        // loaded just before a sign-out) is not put back after the delete.
        post(&[("type", "forget")]);
        if let Ok(caches) = window().caches() {
            let _ = caches.delete(PAGES);
        }
    }

    /// Listens to `target` for the page's lifetime.
    fn listen(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(web_sys::Event) + 'static) {
        let handler = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
        let _ = target.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
        handler.forget();
    }
}
