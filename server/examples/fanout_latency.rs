//! Send→receive latency with N clients in one room, against a running
//! Salon (a measurement, not a test):
//!
//! ```text
//! cargo run --release -p server --example fanout_latency -- http://127.0.0.1:3000 100 1000 200
//! ```
//!
//! Arguments: the server's URL, clients, messages, messages per second.
//! The clients take turns sending at a fixed total rate (open loop; one
//! socket alone may not send more than the server's per-socket frame
//! limit); every client records when each message arrives. Each message carries its
//! send time, so the latency covers the commit, the fan-out and the wire.

use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{ClientId, RoomId};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let clients: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    let messages: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let rate: f64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200.0);
    let run =
        format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());

    eprintln!("registering {clients} users…");
    let mut cookies = Vec::new();
    for i in 0..clients {
        cookies.push(register(&base, &format!("lat{run}u{i}")).await?);
    }
    let room = create_room(&base, &cookies[0], &format!("latency {run}")).await?;
    for cookie in &cookies[1..] {
        call(&base, cookie, "join_room", &[("room", &room.0.to_string())]).await?;
    }
    eprintln!("connecting {clients} sockets…");
    let mut sockets = Vec::new();
    for cookie in &cookies {
        let mut socket = connect(&base, cookie).await?;
        let frame = ClientFrame::Subscribe { room, after: None };
        socket.send(WsMessage::text(serde_json::to_string(&frame)?)).await?;
        sockets.push(socket);
    }

    let start = Instant::now();
    let mut sinks = Vec::new();
    let mut receivers = Vec::new();
    for socket in sockets {
        let (sink, stream) = socket.split();
        sinks.push(sink);
        receivers.push(tokio::spawn(receive(stream, start, messages)));
    }
    let interval = Duration::from_secs_f64(1.0 / rate);
    for i in 0..messages {
        tokio::time::sleep_until((start + interval * i as u32).into()).await;
        let sent_at = start.elapsed().as_micros();
        let frame = ClientFrame::Send {
            room,
            client_id: ClientId::parse(&format!("{run}-{i}")).map_err(|p| format!("client id: {p:?}"))?,
            body: format!("t:{sent_at}"),
        };
        sinks[i % clients].send(WsMessage::text(serde_json::to_string(&frame)?)).await?;
    }
    let mut latencies = Vec::new();
    for receiver in receivers {
        latencies.extend(receiver.await??);
    }
    latencies.sort_unstable();
    let expected = clients * messages;
    let at = |q: f64| {
        latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
    };
    println!(
        "clients {clients}, messages {messages} at {rate}/s, deliveries {} of {expected}",
        latencies.len()
    );
    println!(
        "send→receive latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.50).copied().unwrap_or_default() as f64 / 1000.0,
        at(0.99).copied().unwrap_or_default() as f64 / 1000.0,
        latencies.last().copied().unwrap_or_default() as f64 / 1000.0
    );
    Ok(())
}

/// Latencies in µs of the first `messages` room messages received.
async fn receive(
    mut stream: futures_util::stream::SplitStream<Socket>,
    start: Instant,
    messages: usize,
) -> Result<Vec<u128>, String> {
    let mut latencies = Vec::with_capacity(messages);
    while latencies.len() < messages {
        let next = tokio::time::timeout(Duration::from_secs(30), stream.next()).await;
        let Ok(Some(Ok(WsMessage::Text(text)))) = next else {
            if matches!(next, Ok(Some(Ok(_)))) {
                continue;
            }
            return Err(format!("stream ended after {} messages", latencies.len()));
        };
        if let Ok(ServerFrame::Message { message }) = serde_json::from_str(&text) {
            if let Some(sent) = message.body.strip_prefix("t:").and_then(|t| t.parse::<u128>().ok()) {
                latencies.push(start.elapsed().as_micros().saturating_sub(sent));
            }
        }
    }
    Ok(latencies)
}

async fn call(
    base: &str,
    cookie: &str,
    function: &str,
    args: &[(&str, &str)],
) -> Result<reqwest::Response, reqwest::Error> {
    reqwest::Client::new()
        .post(format!("{base}/api/{function}"))
        .header("cookie", cookie)
        .form(args)
        .send()
        .await?
        .error_for_status()
}

async fn register(base: &str, username: &str) -> Result<String, Box<dyn std::error::Error>> {
    let password = "a long enough secret";
    let email = format!("{username}@example.com");
    let response = reqwest::Client::new()
        .post(format!("{base}/api/register"))
        .form(&[
            ("username", username),
            ("email", &email),
            ("password", password),
            ("password_confirm", password),
        ])
        .send()
        .await?
        .error_for_status()?;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().filter(|pair| pair.starts_with("salon_session=")))
        .ok_or("no session cookie")?
        .to_owned();
    Ok(cookie)
}

async fn create_room(base: &str, cookie: &str, name: &str) -> Result<RoomId, Box<dyn std::error::Error>> {
    let response =
        call(base, cookie, "create_room", &[("name", name), ("topic", ""), ("visibility", "public")]).await?;
    let room: serde_json::Value = response.json().await?;
    Ok(RoomId(room["id"].as_i64().ok_or("no room id")?))
}

async fn connect(base: &str, cookie: &str) -> Result<Socket, Box<dyn std::error::Error>> {
    let mut request = format!("{}/ws?v=1", base.replacen("http", "ws", 1)).into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    Ok(socket)
}
