//! A list shown a page at a time: the first page renders with the rest of
//! the page, later ones are appended when the user asks for more.

use crate::error::AppError;
use crate::i18n::{use_i18n, Texts};
use leptos::prelude::*;
use std::future::Future;

/// The pages after the first, where the next one starts, and whether one
/// is on its way.
pub struct Paged<T: Send + Sync + 'static, C: Send + Sync + 'static> {
    pub more: RwSignal<Vec<T>>,
    pub next: RwSignal<Option<C>>,
    loading: RwSignal<bool>,
}

impl<T: Send + Sync + 'static, C: Send + Sync + 'static> Clone for Paged<T, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static, C: Send + Sync + 'static> Copy for Paged<T, C> {}

impl<T: Send + Sync + 'static, C: Clone + Send + Sync + 'static> Paged<T, C> {
    /// After a first page whose next one starts at `next`.
    pub fn new(next: Option<C>) -> Self {
        Self { more: RwSignal::new(Vec::new()), next: RwSignal::new(next), loading: RwSignal::new(false) }
    }

    /// Starts over after a new first page.
    pub fn restart(&self, next: Option<C>) {
        self.more.set(Vec::new());
        self.next.set(next);
    }

    /// Appends the page that `fetch` loads from where the next one starts
    /// (its items, and where the one after starts), if there is one.
    pub fn load_more<Fut>(self, fetch: impl FnOnce(C) -> Fut + 'static)
    where
        Fut: Future<Output = Result<(Vec<T>, Option<C>), AppError>> + 'static,
    {
        let Some(after) = self.next.get_untracked() else { return };
        self.loading.set(true);
        leptos::task::spawn_local(async move {
            if let Ok((items, next)) = fetch(after).await {
                self.more.update(|more| more.extend(items));
                self.next.set(next);
            }
            self.loading.set(false);
        });
    }

    /// The button asking for more (worded by `label`), while there is more.
    pub fn more_button(
        self,
        label: fn(&Texts) -> &'static str,
        on_click: impl Fn() + Clone + Send + Sync + 'static,
    ) -> impl IntoView {
        let i18n = use_i18n();
        move || {
            let on_click = on_click.clone();
            self.next.with(Option::is_some).then(|| {
                view! {
                    <button type="button" class="button" on:click=move |_| on_click()
                        disabled=move || self.loading.get()>
                        {move || label(i18n.t())}
                    </button>
                }
            })
        }
    }
}
