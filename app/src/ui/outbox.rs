//! The outbox: messages written and not yet answered by the server, kept
//! in the browser (`localStorage`, per user) so that a lost network, a
//! reload or a closed app loses none. Each keeps its client id: however
//! many times it goes out, the server stores it once and answers each time
//! with the one stored message.

use crate::domain::protocol::ClientFrame;
use crate::domain::{Attachment, ClientId, RoomId, Seq, UserId};
use crate::ui::timeline::Pending;
use serde::{Deserialize, Serialize};

/// More than anyone writes offline; past it, a message is still sent but
/// not kept across a reload.
const MOST_KEPT: usize = 500;
const KEY_PREFIX: &str = "salon-outbox-";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Queued {
    room: RoomId,
    client_id: ClientId,
    body: String,
    reply_to: Option<Seq>,
    attachments: Vec<Attachment>,
}

impl Queued {
    /// As the timeline holds it: waiting, never sent from this page.
    fn pending(self) -> Pending {
        Pending {
            client_id: self.client_id,
            body: self.body,
            reply_to: self.reply_to,
            attachments: self.attachments,
            failed: false,
            attempt: 0,
        }
    }
}

/// The outbox of one user on this device.
#[derive(Clone, Copy)]
pub struct Outbox(pub UserId);

impl Outbox {
    /// Keeps a message until the server answers it.
    pub fn add(self, room: RoomId, pending: &Pending) {
        let mut queued = self.read();
        if queued.len() < MOST_KEPT && !queued.iter().any(|q| q.client_id == pending.client_id) {
            queued.push(Queued {
                room,
                client_id: pending.client_id.clone(),
                body: pending.body.clone(),
                reply_to: pending.reply_to,
                attachments: pending.attachments.clone(),
            });
            self.write(&queued);
        }
    }

    /// Forgets messages the server answered (stored or refused), with one
    /// read and write of the storage however many (a catch-up has many).
    pub fn answered<'a>(self, client_ids: impl IntoIterator<Item = &'a ClientId>) {
        let answered: Vec<&ClientId> = client_ids.into_iter().collect();
        if answered.is_empty() {
            return;
        }
        let mut queued = self.read();
        let before = queued.len();
        queued.retain(|q| !answered.contains(&&q.client_id));
        if queued.len() != before {
            self.write(&queued);
        }
    }

    /// The messages of `room` still waiting, oldest first.
    pub fn of_room(self, room: RoomId) -> Vec<Pending> {
        self.read().into_iter().filter(|q| q.room == room).map(Queued::pending).collect()
    }

    /// The frames that send every waiting message not in `except` (the room
    /// on screen sends its own once caught up).
    pub fn frames(self, except: Option<RoomId>) -> Vec<ClientFrame> {
        self.read()
            .into_iter()
            .filter(|q| Some(q.room) != except)
            .map(|q| {
                let room = q.room;
                q.pending().send_frame(room)
            })
            .collect()
    }

    fn key(self) -> String {
        format!("{KEY_PREFIX}{}", self.0)
    }

    /// What is kept; nothing if unreadable (another version's, or edited).
    fn read(self) -> Vec<Queued> {
        storage::get(&self.key()).and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
    }

    fn write(self, queued: &[Queued]) {
        match queued.is_empty() {
            true => storage::remove(&self.key()),
            false => {
                if let Ok(text) = serde_json::to_string(queued) {
                    storage::set(&self.key(), &text);
                }
            }
        }
    }
}

/// Forgets every outbox on this device (at sign-out: it holds what people
/// wrote).
pub fn forget_all() {
    storage::remove_prefixed(KEY_PREFIX);
}

#[cfg(feature = "hydrate")]
mod storage {
    fn local() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    pub fn get(key: &str) -> Option<String> {
        local()?.get_item(key).ok().flatten()
    }

    /// Best effort: storage can be full or refused (private modes).
    pub fn set(key: &str, value: &str) {
        if let Some(storage) = local() {
            let _ = storage.set_item(key, value);
        }
    }

    pub fn remove(key: &str) {
        if let Some(storage) = local() {
            let _ = storage.remove_item(key);
        }
    }

    pub fn remove_prefixed(prefix: &str) {
        let Some(storage) = local() else { return };
        let count = storage.length().unwrap_or(0);
        let keys: Vec<String> = (0..count)
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|k| k.starts_with(prefix))
            .collect();
        for key in keys {
            let _ = storage.remove_item(&key);
        }
    }
}

/// On the server there is no outbox.
#[cfg(not(feature = "hydrate"))]
mod storage {
    pub fn get(_: &str) -> Option<String> {
        None
    }
    pub fn set(_: &str, _: &str) {}
    pub fn remove(_: &str) {}
    pub fn remove_prefixed(_: &str) {}
}
