//! Sending pushes off the hot path: the message writer hands each new
//! message to a bounded queue ([`Pusher::message`], which never waits) and
//! a few workers find whom to push it to and send it, each request with a
//! timeout. A slow or failing push service costs a worker's time, never a
//! room's.

use super::address::PublicOnly;
use super::{payload, wanted};
use crate::domain::{Message, PushDevice, PushPayload};
use crate::error::{AppError, Field, Problem};
use crate::services::hub::Hub;
use crate::services::metrics::METRICS;
use crate::store::Store;
use base64ct::{Base64UrlUnpadded, Encoding};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::{p256, Auth, WebPushBuilder};

/// Messages waiting to be considered before new ones are dropped (and
/// counted in `salon_pushes_dropped_total`).
const QUEUE: usize = 4096;
/// Messages handled at once.
const WORKERS: usize = 4;
/// Requests to push services at once.
const REQUESTS: usize = 64;
/// How long a push service has to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a push service keeps a notification for a device that is off.
const KEEP_FOR: Duration = Duration::from_secs(12 * 60 * 60);

/// The server's VAPID identity: the key every push is signed with, and
/// whom the push services may contact about it.
pub struct Vapid {
    key: ES256KeyPair,
    contact: String,
}

impl Vapid {
    /// `private_key`: the 32-byte P-256 secret scalar. `contact`: a
    /// `mailto:` or `https:` URL.
    pub fn new(private_key: &[u8], contact: String) -> Result<Self, String> {
        let key = ES256KeyPair::from_bytes(private_key).map_err(|error| error.to_string())?;
        Ok(Self { key, contact })
    }

    /// A private key given as base64url.
    pub fn decode_key(text: &str) -> Result<Vec<u8>, String> {
        Base64UrlUnpadded::decode_vec(text.trim().trim_end_matches('=')).map_err(|error| error.to_string())
    }

    /// A new private key, to keep.
    pub fn generate_key() -> Vec<u8> {
        ES256KeyPair::generate().to_bytes()
    }

    /// The public key browsers subscribe with (`applicationServerKey`),
    /// base64url.
    pub fn public_key(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.key.public_key().public_key().to_bytes_uncompressed())
    }
}

struct Job(Message);

/// The push service's handle: cheap to clone.
#[derive(Clone)]
pub struct Pusher {
    jobs: mpsc::Sender<Job>,
    shared: Arc<Shared>,
    hub: Arc<Hub>,
}

struct Shared {
    store: Store,
    vapid: Vapid,
    client: reqwest::Client,
    /// Plain `http` push services on this machine are taken (tests).
    allow_http: bool,
}

impl Pusher {
    /// Starts the workers (within a Tokio runtime).
    pub fn start(
        store: Store,
        hub: Arc<Hub>,
        vapid: Vapid,
        allow_http: bool,
    ) -> Result<Self, reqwest::Error> {
        // The endpoint is the browser's word: never followed elsewhere, nor
        // through a proxy, and only to public addresses.
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT / 2)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly { allow_loopback: allow_http }))
            .build()?;
        let shared = Arc::new(Shared { store: store.clone(), vapid, client, allow_http });
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(work(hub.clone(), shared.clone(), queue));
        tokio::spawn(watch_for_devices(store, Arc::downgrade(&hub)));
        Ok(Self { jobs, shared, hub })
    }

    /// Considers `message` for pushing, unless the queue is full (then it
    /// is dropped and counted). Never waits.
    pub fn message(&self, message: &Message) {
        // Event lines are never pushed (`wanted`): not even queued.
        if message.event.is_some() || !self.hub.may_push() {
            return;
        }
        if self.jobs.try_send(Job(message.clone())).is_err() {
            METRICS.pushes_dropped.increment();
        }
    }

    /// A device was just subscribed here.
    pub(super) fn subscribed(&self) {
        self.hub.push_device_added();
    }

    pub fn public_key(&self) -> String {
        self.shared.vapid.public_key()
    }

    pub(super) fn allows_http(&self) -> bool {
        self.shared.allow_http
    }

    /// Pushes `payload` to `device` at once, and says whether its push
    /// service took it.
    pub(super) async fn send_now(&self, device: &PushDevice, payload: &PushPayload) -> Result<(), AppError> {
        match self.shared.deliver(device, payload).await {
            Sent::Taken => Ok(()),
            Sent::Gone | Sent::Failed => {
                Err(AppError::field(Field::Notifications, Problem::PushServiceRefused))
            }
        }
    }
}

/// What became of one push.
enum Sent {
    Taken,
    /// The device can never be pushed to (its keys or endpoint are bad,
    /// or its push service says 401, 403, 404 or 410): it is forgotten.
    Gone,
    Failed,
}

impl Shared {
    /// Sends a push, and forgets the device if its push service says it
    /// is gone.
    async fn deliver(&self, device: &PushDevice, payload: &PushPayload) -> Sent {
        let sent = self.send(device, payload).await;
        if let Sent::Gone = sent {
            if let Err(error) = self.store.forget_push_device(&device.endpoint).await {
                tracing::error!(%error, "forgetting a push device");
            }
        }
        sent
    }

    async fn send(&self, device: &PushDevice, payload: &PushPayload) -> Sent {
        let Some((public, auth)) = keys(device) else { return Sent::Gone };
        let Ok(endpoint) = device.endpoint.parse::<http::Uri>() else { return Sent::Gone };
        let Ok(body) = serde_json::to_vec(payload) else { return Sent::Failed };
        let request = WebPushBuilder::new(endpoint, public, auth)
            .with_valid_duration(KEEP_FOR)
            .with_vapid(&self.vapid.key, &self.vapid.contact)
            .build(body);
        let request = match request
            .map_err(|e| e.to_string())
            .and_then(|r| reqwest::Request::try_from(r).map_err(|e| e.to_string()))
        {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(%error, "building a push");
                return Sent::Failed;
            }
        };
        match self.client.execute(request).await {
            Ok(response) if response.status().is_success() => {
                METRICS.pushes.increment();
                Sent::Taken
            }
            // Gone (404, 410), or subscribed with another key than this
            // server's (401, 403: the key changed): it never works again.
            Ok(response) if matches!(response.status().as_u16(), 401 | 403 | 404 | 410) => Sent::Gone,
            Ok(response) => {
                METRICS.pushes_failed.increment();
                tracing::warn!(status = response.status().as_u16(), "a push service refused a push");
                Sent::Failed
            }
            Err(error) => {
                METRICS.pushes_failed.increment();
                tracing::warn!(%error, "a push service did not answer");
                Sent::Failed
            }
        }
    }
}

/// The device's public key and authentication secret, if well formed.
pub(super) fn keys(device: &PushDevice) -> Option<(p256::PublicKey, Auth)> {
    let public = Base64UrlUnpadded::decode_vec(device.p256dh.trim_end_matches('=')).ok()?;
    let auth = Base64UrlUnpadded::decode_vec(device.auth.trim_end_matches('=')).ok()?;
    if auth.len() != 16 || public.len() != 65 {
        return None;
    }
    let public = p256::PublicKey::from_sec1_bytes(&public).ok()?;
    Some((public, Auth::clone_from_slice(&auth)))
}

/// The workers: [`WORKERS`] messages considered at once; their pushes
/// are sent [`REQUESTS`] at a time, all messages together, so that a slow
/// push service holds a few requests, never the workers.
async fn work(hub: Arc<Hub>, shared: Arc<Shared>, mut queue: mpsc::Receiver<Job>) {
    let workers = Arc::new(Semaphore::new(WORKERS));
    let requests = Arc::new(Semaphore::new(REQUESTS));
    while let Some(Job(message)) = queue.recv().await {
        let Ok(worker) = workers.clone().acquire_owned().await else { return };
        let (hub, shared, requests) = (hub.clone(), shared.clone(), requests.clone());
        tokio::spawn(async move {
            push_message(&hub, &shared, &requests, &message).await;
            drop(worker);
        });
    }
}

/// Finds whom to push `message` to and starts each push (waiting only for
/// a free request).
async fn push_message(hub: &Hub, shared: &Arc<Shared>, requests: &Arc<Semaphore>, message: &Message) {
    let targets = match shared.store.push_targets(message.room, message.author.id).await {
        Ok(targets) => targets,
        Err(error) => {
            tracing::error!(%error, "finding whom to notify");
            METRICS.errors.increment();
            return;
        }
    };
    for target in targets {
        if !wanted(&target, message, hub.is_looking(target.user, message.room)) {
            continue;
        }
        let Ok(request) = requests.clone().acquire_owned().await else { return };
        let (shared, payload) = (shared.clone(), payload(&target, message));
        tokio::spawn(async move {
            shared.deliver(&target.device, &payload).await;
            drop(request);
        });
    }
}

/// How often the database is asked whether any device is subscribed: a
/// subscription on another instance is relayed, and this catches one whose
/// word was lost.
const RECOUNT_EVERY: Duration = Duration::from_secs(60);

/// Marks the hub as having push devices once the database has any.
async fn watch_for_devices(store: Store, hub: std::sync::Weak<Hub>) {
    let mut every = tokio::time::interval(RECOUNT_EVERY);
    loop {
        every.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if hub.may_push() {
            return;
        }
        if matches!(store.push_device_count().await, Ok(count) if count > 0) {
            hub.push_device_added();
        }
    }
}
