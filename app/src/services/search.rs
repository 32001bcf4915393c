//! Searching messages across the rooms a reader may read, or in one.

use super::{rooms, AppState, OrInternal};
use crate::domain::{search_words, RoomId, SearchCursor, SearchPage, UserId, SEARCH_PAGE};
use crate::error::{AppError, Field};

/// The messages with every word of `query`, newest first, after `before`:
/// in `room` if given (which `viewer` must be able to read), else in every
/// room they can.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn search(
    state: &AppState,
    viewer: UserId,
    query: &str,
    room: Option<RoomId>,
    before: Option<SearchCursor>,
) -> Result<SearchPage, AppError> {
    let words = search_words(query).map_err(|problem| AppError::field(Field::Search, problem))?;
    let rooms = match room {
        Some(room) => {
            rooms::check_readable(state, viewer, room).await?;
            vec![room]
        }
        None => state.store.readable_rooms(viewer).await.or_internal("listing readable rooms")?,
    };
    let mut hits =
        state.store.search(&rooms, &words, before, SEARCH_PAGE as i64 + 1).await.or_internal("searching")?;
    let next = (hits.len() > SEARCH_PAGE).then(|| {
        hits.truncate(SEARCH_PAGE);
        hits.last().map(SearchCursor::after)
    });
    Ok(SearchPage { hits, next: next.flatten() })
}
