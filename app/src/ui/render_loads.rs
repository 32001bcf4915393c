//! One load per server render for the data that shows on every page.
//!
//! On the server, Leptos walks a `Suspense`'s children more than once
//! before it streams them (`dry_resolve`, leptos 0.8
//! `suspense_component.rs`), re-running their closures: each resource in
//! them is created, and loads, again. The browser hydrates with the first
//! copy's data while the HTML holds the last copy's. When the data changed
//! in between (a message posted meanwhile changes an unread count, a room
//! is left), the two disagree and hydration fails (seen in CI: the side
//! bar's rooms). A load made through [`once_per_render`] runs once per
//! request on the server, and every copy shares what it returned (and
//! the server does the work once, not once per walk).

use std::future::Future;

/// The loads of one request (provided per request by the server).
#[cfg(feature = "ssr")]
#[derive(Clone, Default)]
pub struct RenderLoads(std::sync::Arc<std::sync::Mutex<Loads>>);

#[cfg(feature = "ssr")]
type Loads = std::collections::HashMap<&'static str, Box<dyn std::any::Any + Send + Sync>>;

/// `load`, run once per server render under `key` (which names the load
/// and all it depends on); in the browser, `load` itself.
pub async fn once_per_render<T, F>(key: &'static str, load: impl FnOnce() -> F) -> T
where
    T: Clone + Send + Sync + 'static,
    F: Future<Output = T>,
{
    #[cfg(feature = "ssr")]
    if let Some(loads) = leptos::prelude::use_context::<RenderLoads>() {
        type Cell<T> = std::sync::Arc<tokio::sync::OnceCell<T>>;
        let cell = {
            let mut loads = loads.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let entry = loads.entry(key).or_insert_with(|| Box::new(Cell::<T>::default()));
            entry.downcast_ref::<Cell<T>>().cloned()
        };
        if let Some(cell) = cell {
            return cell.get_or_init(load).await.clone();
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = key;
    load().await
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use leptos::prelude::{provide_context, Owner};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_render_loads_once_and_every_copy_gets_that_load() {
        let loads = AtomicUsize::new(0);
        let load = || async { loads.fetch_add(1, Ordering::SeqCst) };

        let render = Owner::new();
        render.set();
        provide_context(RenderLoads::default());
        assert_eq!(once_per_render("count", load).await, 0);
        assert_eq!(once_per_render("count", load).await, 0, "the first copy's result");
        assert_eq!(loads.load(Ordering::SeqCst), 1);

        // The next request (its own loads) loads again; so does a call with
        // no render's loads around it.
        let next = Owner::new();
        next.set();
        provide_context(RenderLoads::default());
        assert_eq!(once_per_render("count", load).await, 1);
        Owner::new().set();
        assert_eq!(once_per_render("count", load).await, 2);
    }
}
