//! `/admin`'s rooms: every room of the server, oldest first, a page at a
//! time, by name and size only (a private room's messages stay private);
//! an admin deletes any of them or hands it to one of its members.

use crate::api::{admin_delete_room, admin_rooms, admin_transfer_room};
use crate::domain::{AdminRoom, AdminRoomsPage, RoomId, Visibility};
use crate::error::Field;
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::form::{latest_error, ConfirmButton};
use crate::ui::paged::Paged;
use crate::ui::time::LocalTime;
use leptos::prelude::*;

/// The rooms card; `first` is the first page, loaded with the page.
#[component]
pub fn RoomsCard(first: AdminRoomsPage) -> impl IntoView {
    let i18n = use_i18n();
    let paged = Paged::<AdminRoom, RoomId>::new(first.next);
    let load_more = move || {
        paged.load_more(
            |after| async move { admin_rooms(Some(after)).await.map(|page| (page.rooms, page.next)) },
        )
    };
    let empty = first.rooms.is_empty();
    view! {
        <section class="card" aria-labelledby="admin-rooms-title">
            <h2 id="admin-rooms-title">{t!(i18n, admin_rooms_title)}</h2>
            {empty.then(|| view! { <p class="muted">{t!(i18n, none_now)}</p> })}
            <ol class="admin-users" aria-label=t!(i18n, admin_rooms_title)>
                {first.rooms.into_iter().map(|room| view! { <RoomRow room /> }).collect_view()}
                <For each=move || paged.more.get() key=|room| room.id let(room)>
                    <RoomRow room />
                </For>
            </ol>
            {paged.more_button(|t| t.load_more, load_more)}
        </section>
    }
}

/// One room: its name, size and owner; delete (asked twice) and transfer.
#[component]
fn RoomRow(room: AdminRoom) -> impl IntoView {
    let i18n = use_i18n();
    let id: RoomId = room.id;
    let deleted = RwSignal::new(room.deleted);
    let owner = RwSignal::new(room.owner.clone());
    let delete = Action::new(move |_: &()| async move {
        let done = admin_delete_room(id).await;
        if done.is_ok() {
            deleted.set(true);
            owner.set(None);
        }
        done
    });
    let transferring = RwSignal::new(false);
    let username = RwSignal::new(String::new());
    let transfer = Action::new(move |name: &String| {
        let name = name.clone();
        async move {
            let done = admin_transfer_room(id, name.clone()).await;
            if done.is_ok() {
                owner.set(Some(name.trim().trim_start_matches('@').to_owned()));
                transferring.set(false);
            }
            done
        }
    });
    let failed = latest_error([delete.value(), transfer.value()]);
    let error = move || failed.get().map(|error| i18n.t().error_at(&error, Field::Username));
    let field = format!("new-owner-{id}");
    let members = room.member_count;
    view! {
        <li class="admin-user">
            <div class="admin-user-who">
                <strong>{room.name.clone()}</strong>
                <span class="muted small">
                    {move || (i18n.t().member_count)(members)}
                    {move || owner.get().map(|name| format!(" · {} @{name}", i18n.t().admin_owner))}
                    " · "<LocalTime ms=room.created_at dated=true />
                </span>
                <p class="field-error" role="alert">{error}</p>
            </div>
            {(room.visibility == Visibility::Private).then(|| view! { <span class="tag">{t!(i18n, private_badge)}</span> })}
            <Show when=move || deleted.get()>
                <span class="tag danger">{t!(i18n, room_deleted_badge)}</span>
            </Show>
            <Show when=move || !deleted.get()>
                <button type="button" class="button subtle small" aria-expanded=move || transferring.get().to_string()
                    on:click=move |_| transferring.update(|open| *open = !*open)>
                    {t!(i18n, transfer_room)}
                </button>
                <ConfirmButton label=|t| t.delete_room_admin confirm_label=|t| t.confirm_delete_room
                    pending=delete.pending() act=move || { delete.dispatch(()); } />
            </Show>
            <Show when=move || transferring.get() && !deleted.get()>
                <form class="admin-transfer" on:submit=move |ev| {
                    ev.prevent_default();
                    transfer.dispatch(username.get_untracked());
                }>
                    <label for=field.clone()>{t!(i18n, new_owner)}</label>
                    <input id=field.clone() type="text" maxlength="33" autocomplete="off" bind:value=username />
                    <button type="submit" class="button primary small" disabled=move || transfer.pending().get()>
                        {t!(i18n, transfer_room)}
                    </button>
                </form>
            </Show>
        </li>
    }
}
