//! Push notifications in the browser: this device's subscription (the
//! profile page's card, through the service worker's `PushManager`), the
//! previews setting, and the bell that shows a room's level.

use crate::api::{push_settings, push_subscribe, push_test, push_unsubscribe, set_push_previews};
use crate::error::{AppError, Field, Problem};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::form::FormSuccess;
use crate::ui::render_loads::once_per_render;
use leptos::prelude::*;

/// What this browser can do and does about notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Device {
    /// Not known before the page is hydrated.
    Unknown,
    /// No service worker, Push API or notifications here.
    Unsupported,
    /// The user refused notifications to this site.
    Denied,
    Off,
    /// Subscribed, at this endpoint.
    On(String),
}

/// The profile page's "Notifications" card.
#[component]
pub fn NotificationsCard() -> impl IntoView {
    let i18n = use_i18n();
    let settings = Resource::new(|| (), |_| once_per_render("push_settings", push_settings));
    let device = RwSignal::new(Device::Unknown);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let tested = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| leptos::task::spawn_local(async move { device.set(browser::device().await) }));
    // Runs `work` in the browser, one at a time, showing its error.
    let run = move |work: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AppError>>>>| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        tested.set(false);
        leptos::task::spawn_local(async move {
            if let Err(problem) = work.await {
                error.set(Some(problem));
            }
            busy.set(false);
        });
    };
    let turn_on = move |_| {
        let Some(Ok(settings)) = settings.get_untracked() else { return };
        run(Box::pin(async move {
            let subscribed = subscribe(&settings.key).await;
            if let Ok(endpoint) | Err(Refusal::Kept(endpoint)) = &subscribed {
                device.set(Device::On(endpoint.clone()));
            }
            match subscribed {
                Ok(_) => Ok(()),
                Err(Refusal::Denied) => {
                    device.set(Device::Denied);
                    Ok(())
                }
                Err(Refusal::Kept(_)) | Err(Refusal::Failed) => Err(push_unusable()),
                Err(Refusal::Server(error)) => Err(error),
            }
        }));
    };
    let turn_off = move |_| {
        run(Box::pin(async move {
            if let Some(endpoint) = unsubscribe().await {
                push_unsubscribe(endpoint).await?;
            }
            device.set(Device::Off);
            Ok(())
        }))
    };
    let send_test = move |_| {
        let Device::On(endpoint) = device.get_untracked() else { return };
        run(Box::pin(async move {
            push_test(endpoint).await?;
            tested.set(true);
            Ok(())
        }))
    };
    let message = move || error.get().map(|error| i18n.t().error_at(&error, Field::Notifications));
    view! {
        <section class="card notifications-card" aria-labelledby="notifications-title">
            <h2 id="notifications-title">{t!(i18n, notifications)}</h2>
            <p class="muted">{t!(i18n, notifications_intro)}</p>
            {move || match device.get() {
                Device::Unknown => ().into_any(),
                Device::Unsupported => view! { <p class="notice">{t!(i18n, notifications_unsupported)}</p> }.into_any(),
                Device::Denied => view! { <p class="notice">{t!(i18n, notifications_denied)}</p> }.into_any(),
                Device::Off => view! {
                    <button type="button" class="button primary" disabled=move || busy.get() on:click=turn_on>
                        {t!(i18n, notify_this_device)}
                    </button>
                }.into_any(),
                Device::On(_) => view! {
                    <p class="form-success" role="status">{t!(i18n, notifications_on)}</p>
                    <div class="button-row">
                        <button type="button" class="button" disabled=move || busy.get() on:click=send_test>
                            {t!(i18n, send_test_notification)}
                        </button>
                        <button type="button" class="button subtle" disabled=move || busy.get() on:click=turn_off>
                            {t!(i18n, notifications_turn_off)}
                        </button>
                    </div>
                }.into_any(),
            }}
            <p class="form-error" role="alert">{message}</p>
            <FormSuccess show=tested text=|t| t.test_notification_sent />
            <Suspense>
                {move || settings.get().and_then(Result::ok).map(|settings| view! { <Previews on=settings.previews /> })}
            </Suspense>
        </section>
    }
}

/// "Show the message's text in notifications", saved as it changes.
#[component]
fn Previews(on: bool) -> impl IntoView {
    let i18n = use_i18n();
    let checked = RwSignal::new(on);
    // Not saved: the box shows what is saved again.
    let save = Action::new(move |on: &bool| {
        let on = *on;
        async move {
            let saved = set_push_previews(on).await;
            if saved.is_err() {
                checked.set(!on);
            }
            saved
        }
    });
    let error = move || match save.value().get() {
        Some(Err(error)) => Some(i18n.t().error(&error)),
        _ => None,
    };
    view! {
        <fieldset class="choices">
            <legend class="visually-hidden">{t!(i18n, notifications)}</legend>
            <label>
                <input type="checkbox" name="previews" prop:checked=checked
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        checked.set(on);
                        save.dispatch(on);
                    } />
                {t!(i18n, notification_previews)}
            </label>
        </fieldset>
        <p class="form-error" role="alert">{error}</p>
    }
}

/// A bell, crossed out for a muted room.
#[component]
pub fn Bell(#[prop(into)] crossed: Signal<bool>) -> impl IntoView {
    view! {
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
            <Show when=move || crossed.get()>
                <path d="M4 4l16 16" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
            </Show>
        </svg>
    }
}

fn push_unusable() -> AppError {
    AppError::field(Field::Notifications, Problem::PushServiceUnsupported)
}

/// Why this browser was not subscribed.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Refusal {
    /// The user refused notifications.
    Denied,
    /// The browser's push service failed.
    Failed,
    /// The browser subscribed, the server refused it (it was undone).
    Server(AppError),
    /// The server refused it, and undoing it failed (it stays, at this
    /// endpoint).
    Kept(String),
}

/// Asks for permission, subscribes this browser with the server's `key`,
/// and hands the subscription to the server; returns its endpoint.
async fn subscribe(key: &str) -> Result<String, Refusal> {
    #[cfg(feature = "hydrate")]
    {
        let device = browser::subscribe(key).await?;
        let endpoint = device.endpoint.clone();
        if let Err(error) = push_subscribe(device.endpoint, device.p256dh, device.auth).await {
            return Err(match browser::unsubscribe().await {
                Some(_) => Refusal::Server(error),
                None => Refusal::Kept(endpoint),
            });
        }
        Ok(endpoint)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (key, push_subscribe);
        Err(Refusal::Failed)
    }
}

/// Ends this browser's subscription; returns its endpoint.
async fn unsubscribe() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        browser::unsubscribe().await
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Ends this browser's subscription, if any: who is signed in changed,
/// and the next user has not asked for notifications here. Its push
/// service then answers the server 410, and the server forgets it.
pub fn forget_subscription() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let _ = browser::unsubscribe().await;
    });
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{Device, Refusal};
    use crate::domain::PushDevice;
    use js_sys::{Function, Promise, Reflect};
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// Base64url (the server's key) as bytes, by the browser's `atob`.
    fn decode_base64url(text: &str) -> Option<Vec<u8>> {
        let mut standard: String = text
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        while standard.len() % 4 != 0 {
            standard.push('=');
        }
        let binary = window().atob(&standard).ok()?;
        binary.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
    }

    /// `target.name(args…)`, awaited if it returns a promise.
    async fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let method: Function = Reflect::get(target, &name.into())?.dyn_into()?;
        let result = method.apply(target, &args.iter().collect::<js_sys::Array>())?;
        match result.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await,
            Err(value) => Ok(value),
        }
    }

    fn has(target: &JsValue, name: &str) -> bool {
        Reflect::has(target, &name.into()).unwrap_or(false)
    }

    /// The service worker's push manager, once the worker is ready.
    async fn push_manager() -> Option<JsValue> {
        let container = window().navigator().service_worker();
        let ready = JsFuture::from(container.ready().ok()?).await.ok()?;
        Reflect::get(&ready, &"pushManager".into()).ok().filter(|m| !m.is_undefined())
    }

    fn permission() -> String {
        Reflect::get(&window(), &"Notification".into())
            .and_then(|n| Reflect::get(&n, &"permission".into()))
            .ok()
            .and_then(|p| p.as_string())
            .unwrap_or_default()
    }

    async fn current() -> Option<JsValue> {
        let subscription = call(&push_manager().await?, "getSubscription", &[]).await.ok()?;
        (!subscription.is_null()).then_some(subscription)
    }

    pub async fn device() -> Device {
        let window: JsValue = window().into();
        let navigator = Reflect::get(&window, &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
        if !has(&window, "PushManager") || !has(&window, "Notification") || !has(&navigator, "serviceWorker")
        {
            return Device::Unsupported;
        }
        if permission() == "denied" {
            return Device::Denied;
        }
        let subscription = current().await;
        let key = crate::api::push_settings().await.ok().and_then(|settings| decode_base64url(&settings.key));
        if let (Some(subscription), Some(key)) = (&subscription, key) {
            // Subscribed with another key than the server's now (it
            // changed): it can never be pushed to; the user subscribes again.
            if server_key(subscription).is_some_and(|used| used != key) {
                let _ = call(subscription, "unsubscribe", &[]).await;
                return Device::Off;
            }
        }
        match subscription.and_then(|s| read(&s)) {
            Some(device) => {
                // Handed over again: the server may not have it (another
                // user signed in here since, or it forgot it).
                let endpoint = device.endpoint.clone();
                let _ = crate::api::push_subscribe(device.endpoint, device.p256dh, device.auth).await;
                Device::On(endpoint)
            }
            None => Device::Off,
        }
    }

    /// The key a subscription was made with (`options.applicationServerKey`).
    fn server_key(subscription: &JsValue) -> Option<Vec<u8>> {
        let options = Reflect::get(subscription, &"options".into()).ok()?;
        let key = Reflect::get(&options, &"applicationServerKey".into()).ok()?;
        key.dyn_into::<js_sys::ArrayBuffer>().ok().map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec())
    }

    /// The subscription as the server takes it (`toJSON()`'s fields).
    fn read(subscription: &JsValue) -> Option<PushDevice> {
        let json = js_sys::JSON::stringify(subscription).ok()?.as_string()?;
        #[derive(serde::Deserialize)]
        struct Keys {
            p256dh: String,
            auth: String,
        }
        #[derive(serde::Deserialize)]
        struct Subscription {
            endpoint: String,
            keys: Keys,
        }
        let parsed: Subscription = serde_json::from_str(&json).ok()?;
        Some(PushDevice { endpoint: parsed.endpoint, p256dh: parsed.keys.p256dh, auth: parsed.keys.auth })
    }

    pub async fn subscribe(key: &str) -> Result<PushDevice, Refusal> {
        let notification = Reflect::get(&window(), &"Notification".into()).map_err(|_| Refusal::Failed)?;
        let answer = call(&notification, "requestPermission", &[]).await.map_err(|_| Refusal::Failed)?;
        if answer.as_string().as_deref() != Some("granted") {
            return Err(Refusal::Denied);
        }
        let manager = push_manager().await.ok_or(Refusal::Failed)?;
        let key = decode_base64url(key).ok_or(Refusal::Failed)?;
        let options = js_sys::Object::new();
        let _ = Reflect::set(&options, &"userVisibleOnly".into(), &true.into());
        let _ = Reflect::set(&options, &"applicationServerKey".into(), &js_sys::Uint8Array::from(&key[..]));
        let subscription =
            call(&manager, "subscribe", &[options.into()]).await.map_err(|_| Refusal::Failed)?;
        read(&subscription).ok_or(Refusal::Failed)
    }

    pub async fn unsubscribe() -> Option<String> {
        let subscription = current().await?;
        let endpoint = Reflect::get(&subscription, &"endpoint".into()).ok()?.as_string();
        call(&subscription, "unsubscribe", &[]).await.ok()?;
        endpoint
    }
}
