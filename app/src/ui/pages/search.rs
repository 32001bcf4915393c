//! Searching messages: a plain GET form (`/search?q=…&room=…`), so that a
//! search is a link too; results newest first, each opening its room at
//! the message, and more on asking.

use crate::api::search_messages;
use crate::domain::{RoomId, SearchCursor, SearchHit};
use crate::error::Field;
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::live::use_live;
use crate::ui::paged::Paged;
use crate::ui::render_loads::once_per_render;
use crate::ui::shell::PageTitle;
use crate::ui::time::LocalTime;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SearchPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let words = move || query.with(|q| q.get("q").unwrap_or_default());
    let room = move || query.with(|q| q.get("room").and_then(|r| r.parse().ok()).map(RoomId));
    let paged = Paged::<SearchHit, SearchCursor>::new(None);
    let first = Resource::new(
        move || (words(), room()),
        |(words, room)| {
            once_per_render("search_messages", move || async move {
                if words.trim().is_empty() {
                    return Ok(None);
                }
                search_messages(words, room, None).await.map(Some)
            })
        },
    );
    Effect::new(move |_| {
        first.track();
        paged.restart(first.get().and_then(|page| page.ok().flatten()).and_then(|page| page.next));
    });
    let load_more = move || {
        paged.load_more(move |cursor| async move {
            search_messages(words(), room(), Some(cursor)).await.map(|page| (page.hits, page.next))
        })
    };
    view! {
        <PageTitle text=|t| t.search_title />
        <h1 class="page-title">{t!(i18n, search_title)}</h1>
        <form class="card search-form" method="get" action="/search" role="search">
            <label for="search-query">{move || if room().is_some() { i18n.t().search_room } else { i18n.t().search_messages }}</label>
            <div class="search-row">
                <input id="search-query" name="q" type="search" maxlength="200" autocomplete="off"
                    prop:value=words />
                {move || room().map(|room| view! { <input type="hidden" name="room" value=room.0.to_string() /> })}
                <button type="submit" class="button primary">{t!(i18n, search)}</button>
            </div>
        </form>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(None) => ().into_any(),
                    Ok(Some(page)) if page.hits.is_empty() => {
                        view! { <p class="muted" role="status">{t!(i18n, no_results)}</p> }.into_any()
                    }
                    Ok(Some(page)) => view! {
                        <ol class="search-results" aria-label=t!(i18n, search_results)>
                            {page.hits.into_iter().map(|hit| view! { <Hit hit /> }).collect_view()}
                            <For each=move || paged.more.get() key=|hit| (hit.room, hit.seq) let(hit)>
                                <Hit hit />
                            </For>
                        </ol>
                        {paged.more_button(|t| t.more_results, load_more)}
                    }.into_any(),
                    Err(error) => view! {
                        <p class="form-error" role="alert">{i18n.t().error_at(&error, Field::Search)}</p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One result: where and by whom, when, and the words in context; a link
/// to the message in its room.
#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let live = use_live();
    let i18n = use_i18n();
    let room = hit.room;
    // A direct conversation has no name: the rooms list knows its title.
    let fallback = hit.room_name.clone();
    let title = move || {
        live.rooms
            .with(|rooms| rooms.iter().flatten().find(|r| r.id == room).map(|r| r.title().to_owned()))
            .filter(|title| !title.is_empty())
            .unwrap_or_else(|| {
                if fallback.is_empty() {
                    i18n.t().direct_messages.to_owned()
                } else {
                    fallback.clone()
                }
            })
    };
    let href = format!("/rooms/{}?at={}", hit.room.0, hit.seq);
    view! {
        <li class="search-hit">
            <a href=href>
                <span class="search-meta">
                    <strong>{title}</strong>
                    " · "
                    <span>{hit.author.shown_name().to_owned()}</span>
                    " · "
                    <LocalTime ms=hit.sent_at />
                </span>
                <span class="search-snippet" inner_html=hit.snippet></span>
            </a>
        </li>
    }
}
