//! Live events between instances, through Redis pub/sub.
//!
//! Every instance publishes what its hub does (a [`hub::Event`], with the
//! frame's text when it carries one) on one channel, and applies what the
//! others publish to its own sockets. Pub/sub delivers at most once: what
//! is published while a link is down is lost. The database stays the
//! source of truth, and the sockets that may have missed something are
//! closed with [`CLOSE_RESUME`], so that their tabs reconnect and catch up
//! from the database as after any disconnection:
//! - when this instance's subscription comes back, its own sockets resume;
//! - when its publishing comes back after dropping events, it says
//!   [`Event::Lost`], and every other instance's sockets resume.
//!
//! Meanwhile each instance goes on serving its own sockets. Presence:
//! each instance tells the others who is online on it (a snapshot when it
//! (re)connects, then every arrival and departure), says
//! [`Event::Heartbeat`] when it has been quiet, and is forgotten, with its
//! users, once silent for [`SILENT_FOR`].

use super::hub::{Event, Hub, InstanceId, Relayed};
use super::metrics::METRICS;
use crate::domain::protocol::CLOSE_RESUME;
use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// An instance with nothing to say says it is alive this often.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// An instance not heard from for this long is gone.
pub const SILENT_FOR: Duration = Duration::from_secs(20);
/// Events waiting to be published; past this, they are dropped (and the
/// other instances told to resume). Each may hold a frame of a few KiB.
const RELAY_QUEUE: usize = 8192;
/// Events published in one round trip at most.
const BATCH: usize = 1024;
/// How long a connection attempt or a command may take.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest pause between reconnection attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Links `hub` to the other instances publishing on `channel` of the
/// Redis server at `url`; returns this instance's id. The links connect
/// (and reconnect) in the background: an unreachable Redis is logged and
/// retried, and the instance serves its own sockets meanwhile.
pub fn start(hub: Arc<Hub>, url: &str, channel: &str) -> Result<InstanceId, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let me = instance_id();
    let (relay, queue) = mpsc::channel(RELAY_QUEUE);
    if !hub.set_relay(relay) {
        tracing::warn!("this hub is linked to other instances already");
        return Ok(me);
    }
    tracing::info!(instance = me, channel, "sharing live events with other instances through Redis");
    tokio::spawn(publish(client.clone(), channel.to_owned(), me, hub.clone(), queue));
    tokio::spawn(subscribe(client, channel.to_owned(), me, hub.clone()));
    tokio::spawn(expire_silent_instances(hub));
    Ok(me)
}

fn instance_id() -> InstanceId {
    getrandom::u64().unwrap_or_else(|_| {
        // Without the system's random source, the clock and the process
        // id still tell instances apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        nanos ^ u64::from(std::process::id()) << 32
    })
}

/// What travels on the channel: this header as JSON, a newline, then the
/// frame's text, as is (no second encoding of the frame).
#[derive(Serialize, Deserialize)]
struct Header {
    from: InstanceId,
    event: Event,
}

fn encode(from: InstanceId, event: Event, frame: Option<&Utf8Bytes>) -> Option<Vec<u8>> {
    let mut payload = serde_json::to_vec(&Header { from, event })
        .inspect_err(|error| tracing::error!(%error, "encoding a live event"))
        .ok()?;
    if let Some(frame) = frame {
        payload.push(b'\n');
        payload.extend_from_slice(frame.as_str().as_bytes());
    }
    Some(payload)
}

fn decode(payload: &[u8]) -> Option<(InstanceId, Event, Option<Utf8Bytes>)> {
    let (header, frame) = match payload.iter().position(|byte| *byte == b'\n') {
        Some(newline) => (&payload[..newline], Some(&payload[newline + 1..])),
        None => (payload, None),
    };
    let Header { from, event } = serde_json::from_slice(header).ok()?;
    let frame = match frame {
        Some(bytes) => Some(Utf8Bytes::from(std::str::from_utf8(bytes).ok()?.to_owned())),
        None => None,
    };
    Some((from, event, frame))
}

/// Sends what the hub relays, in order, several events per round trip.
async fn publish(
    client: redis::Client,
    channel: String,
    me: InstanceId,
    hub: Arc<Hub>,
    mut queue: mpsc::Receiver<Relayed>,
) {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT));
    let mut lost = false;
    let mut attempts = 0;
    loop {
        lost |= drop_queued(&mut queue);
        let mut connection = match client.get_multiplexed_async_connection_with_config(&config).await {
            Ok(connection) => connection,
            Err(error) => {
                if attempts == 0 {
                    tracing::error!(%error, "cannot publish live events to Redis; retrying");
                }
                attempts += 1;
                tokio::time::sleep(retry_delay(attempts)).await;
                continue;
            }
        };
        if attempts > 0 {
            tracing::info!("publishing live events to Redis again");
        }
        attempts = 0;
        // Whatever the others missed of ours, who is online here, and a
        // request for who is online there (the subscriber's own request
        // may have been dropped above while this link was down).
        let mut greeting = Vec::new();
        if std::mem::take(&mut lost) | hub.take_relay_overflow() {
            greeting.push(Relayed::Event(Event::Lost, None));
        }
        greeting.push(Relayed::Event(Event::Snapshot { users: hub.local_snapshot() }, None));
        greeting.push(Relayed::Event(Event::Hello, None));
        let mut pending = greeting.into_iter();
        loop {
            let first = match pending.next() {
                Some(item) => item,
                None => match timeout(HEARTBEAT_EVERY, queue.recv()).await {
                    Ok(Some(item)) => item,
                    Ok(None) => return,
                    Err(_) => Relayed::Event(Event::Heartbeat, None),
                },
            };
            let mut batch = Batch::default();
            batch.add(&channel, me, first);
            while batch.events < BATCH {
                match queue.try_recv() {
                    Ok(item) => batch.add(&channel, me, item),
                    Err(_) => break,
                }
            }
            if hub.take_relay_overflow() {
                // Presence changes may be among what was dropped, too.
                batch.add(&channel, me, Relayed::Event(Event::Lost, None));
                batch.add(
                    &channel,
                    me,
                    Relayed::Event(Event::Snapshot { users: hub.local_snapshot() }, None),
                );
            }
            if batch.events == 0 {
                // Only flushes: everything before them went out already.
                for flushed in batch.flushes {
                    let _ = flushed.send(());
                }
                continue;
            }
            match batch.pipeline.query_async::<()>(&mut connection).await {
                Ok(()) => {
                    METRICS.relay_published.add(batch.events as u64);
                    for flushed in batch.flushes {
                        let _ = flushed.send(());
                    }
                }
                Err(error) => {
                    tracing::error!(%error, events = batch.events, "publishing live events to Redis failed");
                    METRICS.relay_dropped.add(batch.events as u64);
                    lost = true;
                    break;
                }
            }
        }
    }
}

/// Several events, published in one round trip.
#[derive(Default)]
struct Batch {
    pipeline: redis::Pipeline,
    events: usize,
    flushes: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Batch {
    fn add(&mut self, channel: &str, me: InstanceId, item: Relayed) {
        match item {
            Relayed::Event(event, frame) => {
                if let Some(payload) = encode(me, event, frame.as_ref()) {
                    self.pipeline.cmd("PUBLISH").arg(channel).arg(payload).ignore();
                    self.events += 1;
                }
            }
            Relayed::Flush(flushed) => self.flushes.push(flushed),
        }
    }
}

/// Empties the queue while Redis is away (answering flushes at once);
/// returns whether events were dropped.
fn drop_queued(queue: &mut mpsc::Receiver<Relayed>) -> bool {
    let mut dropped = 0;
    while let Ok(item) = queue.try_recv() {
        match item {
            Relayed::Event(..) => dropped += 1,
            Relayed::Flush(flushed) => {
                let _ = flushed.send(());
            }
        }
    }
    METRICS.relay_dropped.add(dropped);
    dropped > 0
}

/// Applies what the other instances publish; after each (re)subscription,
/// this instance's sockets resume, and the others are asked who is online.
async fn subscribe(client: redis::Client, channel: String, me: InstanceId, hub: Arc<Hub>) {
    let mut attempts = 0;
    loop {
        let subscribed = timeout(REDIS_TIMEOUT, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let pubsub = match subscribed {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(error)) => {
                if attempts == 0 {
                    tracing::error!(%error, "cannot subscribe to live events in Redis; retrying");
                }
                attempts += 1;
                tokio::time::sleep(retry_delay(attempts)).await;
                continue;
            }
            Err(_) => {
                if attempts == 0 {
                    tracing::error!("Redis did not answer a subscription in time; retrying");
                }
                attempts += 1;
                continue;
            }
        };
        attempts = 0;
        hub.set_linked(true);
        tracing::info!("receiving live events from other instances");
        // What was published while we were away is lost: every socket
        // here catches up from the database, from now on with live events.
        hub.close_all(CLOSE_RESUME);
        hub.relay(Event::Hello, None);
        receive(pubsub, me, &hub).await;
        hub.set_linked(false);
        tracing::error!(
            "lost the Redis subscription: live events from other instances stop until it is back"
        );
    }
}

/// Until the subscription breaks (or stops answering pings).
async fn receive(pubsub: redis::aio::PubSub, me: InstanceId, hub: &Hub) {
    use futures_util::StreamExt;
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return };
                match decode(message.get_payload_bytes()) {
                    Some((from, _, _)) if from == me => {}
                    Some((from, event, frame)) => {
                        METRICS.relay_received.increment();
                        hub.apply(from, event, frame);
                    }
                    None => tracing::warn!("ignored a malformed live event from Redis"),
                }
            }
            _ = ping.tick() => {
                if !matches!(timeout(REDIS_TIMEOUT, sink.ping::<redis::Value>()).await, Ok(Ok(_))) {
                    return;
                }
            }
        }
    }
}

async fn expire_silent_instances(hub: Arc<Hub>) {
    let mut every = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        every.tick().await;
        hub.expire_instances(SILENT_FOR);
    }
}

/// 100 ms, 200 ms, 400 ms… up to [`MAX_RETRY_DELAY`].
fn retry_delay(attempts: u32) -> Duration {
    (Duration::from_millis(100) * 2u32.saturating_pow(attempts.min(5))).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoomId, UserId};

    #[test]
    fn events_travel_with_their_frame_as_is() {
        let frame = Utf8Bytes::from_static("{\"type\":\"message\",\"body\":\"line\\nbreak\"}");
        let event = Event::Room { room: RoomId(3), seq: Some(9) };
        let payload = encode(7, event.clone(), Some(&frame)).unwrap();
        assert_eq!(decode(&payload), Some((7, event, Some(frame))));
        let bare = encode(7, Event::AddMember { room: RoomId(1), user: UserId(2) }, None).unwrap();
        assert!(!bare.contains(&b'\n'));
        assert!(matches!(decode(&bare), Some((7, Event::AddMember { .. }, None))));
        assert_eq!(decode(b"not json\n{}"), None);
        assert_eq!(decode(b"{\"from\":1,\"event\":{\"op\":\"heartbeat\"}}\n\xff"), None);
    }

    #[test]
    fn retries_back_off_up_to_a_limit() {
        assert_eq!(retry_delay(0), Duration::from_millis(100));
        assert_eq!(retry_delay(2), Duration::from_millis(400));
        assert_eq!(retry_delay(40), MAX_RETRY_DELAY);
    }
}
