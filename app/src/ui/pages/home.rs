//! The signed-in home page: my rooms, creating a room, and browsing the
//! public ones.

use crate::api::{
    browse_rooms, may_create_rooms, my_invitations, AcceptInvitation, CreateRoom, DeclineInvitation, JoinRoom,
};
use crate::domain::protocol::{ClientFrame, ServerFrame};
use crate::domain::{RoomId, RoomSummary, Visibility};
use crate::error::{AppError, Field};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::form::{field_problem, first_error, form_error, FormError, SubmitButton, TextField};
use crate::ui::head::DocumentTitle;
use crate::ui::live::use_live;
use crate::ui::render_loads::once_per_render;
use crate::ui::session::use_session;
use crate::ui::shell::UnreadBadges;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let name = move || session.current().map(|a| a.public().shown_name().to_owned()).unwrap_or_default();
    let may_create = Resource::new(|| (), |_| once_per_render("may_create_rooms", may_create_rooms));
    view! {
        <DocumentTitle text="Salon" />
        <h1 class="page-title">{move || (i18n.t().welcome)(&name())}</h1>
        {move || session.current().is_some_and(|account| account.admin).then(|| view! {
            <p class="admin-notice">{t!(i18n, you_administer)}</p>
        })}
        <div class="home-grid">
            <Invitations />
            <section class="card" aria-labelledby="my-rooms-title">
                <h2 id="my-rooms-title">{t!(i18n, my_rooms)}</h2>
                <MyRooms />
            </section>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    // Unknown (a failed read): the form, which says why if refused.
                    if may_create.await.unwrap_or(true) {
                        view! { <CreateRoomCard /> }.into_any()
                    } else {
                        view! {
                            <section class="card" aria-labelledby="create-room-title">
                                <h2 id="create-room-title">{t!(i18n, create_room)}</h2>
                                <p class="muted">{t!(i18n, admins_only_rooms)}</p>
                            </section>
                        }.into_any()
                    }
                })}
            </Transition>
            <BrowseRooms />
        </div>
    }
}

/// The invitations waiting for me, live; shown only when there are some.
#[component]
fn Invitations() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let accept = ServerAction::<AcceptInvitation>::new();
    let decline = ServerAction::<DeclineInvitation>::new();
    let invitations = Resource::new(
        move || (live.invitations_changed.get(), live.reconnections.get()),
        |_| once_per_render("my_invitations", my_invitations),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(room)) = accept.value().get() {
            navigate(&format!("/rooms/{}", room.id), Default::default());
        }
    });
    let error = first_error(move || [accept.value().get().map(|r| r.map(drop)), decline.value().get()]);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let invitations = invitations.await.unwrap_or_default();
                (!invitations.is_empty()).then(|| view! {
                    <section class="card invitations" id="invitations" aria-labelledby="invitations-title">
                        <h2 id="invitations-title">{t!(i18n, invitations)}</h2>
                        <FormError error />
                        <ul class="room-list">
                            {invitations.into_iter().map(|invitation| {
                                let room = invitation.room;
                                let inviter = invitation.inviter.shown_name().to_owned();
                                let count = invitation.member_count;
                                view! {
                                    <li class="room-row invitation">
                                        <div class="room-link">
                                            <span class="room-name">
                                                <span class="hash" aria-hidden="true">"#"</span>
                                                {invitation.room_name.clone()}
                                                {(invitation.visibility == Visibility::Private).then(|| view! { <span class="tag">{t!(i18n, private_badge)}</span> })}
                                            </span>
                                            <span class="room-preview">
                                                {move || (i18n.t().invited_by)(&inviter)}" · "{move || (i18n.t().member_count)(count)}
                                            </span>
                                        </div>
                                        <span class="person-actions">
                                            <button type="button" class="button primary small" on:click=move |_| { accept.dispatch(AcceptInvitation { room }); }>{t!(i18n, accept)}</button>
                                            <button type="button" class="button subtle small" on:click=move |_| { decline.dispatch(DeclineInvitation { room }); }>{t!(i18n, decline)}</button>
                                        </span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
    }
}

/// My rooms with their last message and unread count, live.
#[component]
fn MyRooms() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let rooms = move || {
        live.rooms.get().map(|mut rooms| {
            rooms.retain(|room| !room.is_direct());
            rooms
        })
    };
    move || match rooms() {
        None => view! { <p class="muted">{t!(i18n, loading)}</p> }.into_any(),
        Some(rooms) if rooms.is_empty() => view! { <p class="muted">{t!(i18n, no_rooms_yet)}</p> }.into_any(),
        Some(rooms) => view! {
            <ul class="room-list">
                {rooms.into_iter().map(|room| view! { <RoomRow room /> }).collect_view()}
            </ul>
        }
        .into_any(),
    }
}

#[component]
fn RoomRow(room: RoomSummary) -> impl IntoView {
    let i18n = use_i18n();
    let unread = room.unread;
    let has_unread = unread > 0;
    let preview = room.last_message.clone();
    view! {
        <li class="room-row" class:has-unread=has_unread>
            <A href=format!("/rooms/{}", room.id) attr:class="room-link">
                <span class="room-name">
                    <span class="hash" aria-hidden="true">"#"</span>
                    {room.name.clone()}
                    {(room.visibility == Visibility::Private).then(|| view! { <span class="tag">{t!(i18n, private_badge)}</span> })}
                </span>
                <span class="room-preview">
                    {match preview {
                        Some(preview) if preview.deleted => view! {
                            <strong>{preview.author}": "</strong><em>{t!(i18n, message_deleted)}</em>
                        }.into_any(),
                        Some(preview) => view! { <strong>{preview.author}": "</strong>{preview.text} }.into_any(),
                        None => view! { <em>{t!(i18n, no_messages_preview)}</em> }.into_any(),
                    }}
                </span>
            </A>
            <UnreadBadges unread mentions=room.mentions />
        </li>
    }
}

#[component]
fn CreateRoomCard() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateRoom>::new();
    let value = move || create.value().get();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(room)) = create.value().get() {
            navigate(&format!("/rooms/{}", room.id), Default::default());
        }
    });
    view! {
        <section class="card" aria-labelledby="create-room-title">
            <h2 id="create-room-title">{t!(i18n, create_room)}</h2>
            <ActionForm action=create attr:class="form">
                <TextField name="name" label=|t| t.room_name problem=field_problem(value, Field::RoomName) />
                <TextField name="topic" label=|t| t.room_topic hint=|t| t.room_topic_hint problem=field_problem(value, Field::Topic) />
                <fieldset class="choices">
                    <legend>{t!(i18n, visibility)}</legend>
                    <label><input type="radio" name="visibility" value="public" checked />{t!(i18n, public_room)}</label>
                    <label><input type="radio" name="visibility" value="private" />{t!(i18n, private_room)}</label>
                </fieldset>
                <FormError error=form_error(value) />
                <SubmitButton label=|t| t.create_room pending_label=|t| t.creating_room pending=create.pending() />
            </ActionForm>
        </section>
    }
}

/// Searching public rooms, with a join button on those I am not in. The
/// list follows changes live (new rooms, member counts) while shown.
#[component]
fn BrowseRooms() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let query = RwSignal::new(String::new());
    let join = ServerAction::<JoinRoom>::new();
    // Every public room, rendered with the page; searches then replace the
    // list in place (rows keep their elements, so a click never lands on a
    // row that is being replaced).
    let all = Resource::new(|| (), |_| once_per_render("all_public_rooms", || browse_rooms(String::new())));
    let search = Action::new(|query: &String| {
        let query = query.clone();
        async move { (query.clone(), browse_rooms(query).await) }
    });
    // The search result with live changes applied; `None` until searched.
    let shown = RwSignal::new(None::<Vec<RoomSummary>>);
    // Rooms that left the directory while shown (made private, deleted):
    // whatever list is shown leaves them out, as it does rooms deleted
    // before this page's live changes began (`Live::deleted`).
    let unlisted = RwSignal::new(Vec::<RoomId>::new());
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        // A late answer to an older search is dropped.
        if let Some((asked, result)) = search.value().get() {
            if asked == query.get_untracked() {
                match result {
                    Ok(rooms) => shown.set(Some(rooms)),
                    Err(e) => error.set(Some(e)),
                }
            }
        }
    });
    live.watch(
        move |frame| match frame {
            ServerFrame::PublicRoomChanged { room } => shown.update(|rooms| {
                unlisted.update(|unlisted| unlisted.retain(|id| *id != room.id));
                let rooms = match rooms {
                    Some(rooms) => rooms,
                    // Still loading: the list on its way stands (if it
                    // was read just before this change, its count is a
                    // change behind), not a list of this one room.
                    None => match all.get_untracked() {
                        Some(Ok(loaded)) => rooms.insert(loaded),
                        _ => return,
                    },
                };
                let listed = rooms.iter().position(|r| r.id == room.id);
                match listed {
                    Some(at) => rooms[at].member_count = room.member_count,
                    None if matches_search(room, &query.get_untracked()) => rooms.push(room.clone()),
                    None => return,
                }
                rooms.sort_by(|a, b| {
                    b.member_count.cmp(&a.member_count).then(b.last_activity.cmp(&a.last_activity))
                });
            }),
            ServerFrame::PublicRoomGone { room } => unlisted.update(|unlisted| unlisted.push(*room)),
            _ => {}
        },
        move || {
            live.send(&ClientFrame::WatchPublicRooms { watch: true });
        },
    );
    on_cleanup(move || {
        live.send(&ClientFrame::WatchPublicRooms { watch: false });
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(room)) = join.value().get() {
            navigate(&format!("/rooms/{}", room.id), Default::default());
        }
    });
    let is_mine = move |room: &RoomSummary| {
        room.role.is_some() || live.rooms.with(|rooms| rooms.iter().flatten().any(|r| r.id == room.id))
    };
    view! {
        <section class="card browse" aria-labelledby="browse-title">
            <h2 id="browse-title">{t!(i18n, browse_rooms)}</h2>
            <div class="field">
                <label for="room-search">{t!(i18n, search_rooms)}</label>
                <input id="room-search" type="search" autocomplete="off" aria-describedby="room-search-hint"
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        error.set(None);
                        search.dispatch(query.get_untracked());
                    } />
                <p class="hint" id="room-search-hint">{t!(i18n, search_rooms_hint)}</p>
            </div>
            <FormError error=form_error(move || join.value().get()) />
            <FormError error=error />
            <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    let (loaded, failed) = match all.await {
                        Ok(rooms) => (rooms, None),
                        Err(error) => (Vec::new(), Some(error)),
                    };
                    let rooms = Signal::derive(move || {
                        let mut rooms = shown.get().unwrap_or_else(|| loaded.clone());
                        let listed = |id: &RoomId| {
                            !unlisted.with(|gone| gone.contains(id)) && !live.deleted.with(|gone| gone.contains(id))
                        };
                        rooms.retain(|room| listed(&room.id));
                        rooms
                    });
                    view! {
                        <FormError error=Signal::derive(move || failed.clone()) />
                        <Show when=move || rooms.with(Vec::is_empty)>
                            <p class="muted">{t!(i18n, no_rooms_found)}</p>
                        </Show>
                        <ul class="room-list">
                            <For each=move || rooms.get() key=|room| (room.id, room.member_count) let(room)>
                                {
                                    let joined = is_mine(&room);
                                    let id = room.id;
                                    let join_label = room.name.clone();
                                    view! {
                                        <li class="room-row">
                                            <A href=format!("/rooms/{id}") attr:class="room-link">
                                                <span class="room-name"><span class="hash" aria-hidden="true">"#"</span>{room.name.clone()}</span>
                                                <span class="room-preview">{room.topic.clone()}</span>
                                            </A>
                                            <span class="muted small">{move || (i18n.t().member_count)(room.member_count)}</span>
                                            {(!joined).then(|| view! {
                                                <button type="button" class="button small"
                                                    aria-label=move || format!("{} {join_label}", i18n.t().join)
                                                    disabled=move || join.pending().get()
                                                    on:click=move |_| { join.dispatch(JoinRoom { room: id }); }>
                                                    {t!(i18n, join)}
                                                </button>
                                            })}
                                        </li>
                                    }
                                }
                            </For>
                        </ul>
                    }
                })}
            </Transition>
        </section>
    }
}

/// Whether a public room belongs in the results for `query` (as the server
/// searches: name or topic, ignoring case).
fn matches_search(room: &RoomSummary, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    room.name.to_lowercase().contains(&query) || room.topic.to_lowercase().contains(&query)
}
