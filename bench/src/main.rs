//! Salon's load generator: drives a running Salon over its real protocol
//! (HTTP server functions to set up, one WebSocket per client) and prints,
//! and writes as JSON, what it measured. A measurement, never a test.
//!
//! ```text
//! salon-bench --url http://127.0.0.1:3000 --scenario fanout --clients 1000 \
//!     --senders 50 --rate 100 --duration 20 --server-pid "$(pidof salon)" --json out.json
//! ```
//!
//! Scenarios:
//! - `fanout`: every client in one room; `--senders` of them send, in
//!   turns, `--rate` messages per second in all (open loop).
//! - `rooms`: the clients in rooms of `--room-size`; one sender per room,
//!   `--rate` messages per second in all.
//! - `durable`: every client alone in its room, all sending: the writer's
//!   sustained rate, seen through send→ack.
//! - `idle`: the clients connect (in rooms of `--room-size`) and stay
//!   silent for `--duration`; reports the server's memory per connection.
//!   Above [`PER_PROCESS`] sockets the generator splits them across
//!   processes (`salon-bench hold`), each under its open-file limit.
//! - `history`: the clients read the newest page of `--room` in a closed
//!   loop for `--duration`; reports requests/s and their latency.
//!
//! `salon-bench seed` fills a database before its server starts (see
//! [`seed`]); `--seeded FIRST` then signs in those users instead of
//! registering new ones.
//!
//! Every message carries its send time (µs since the Unix epoch), so each
//! receiver measures send→receive latency; senders measure send→ack (the
//! ack comes after the durable commit). Each receiver checks that the
//! room's sequence numbers arrive with no gap and no duplicate.

use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{ClientId, RoomId};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

mod seed;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long receivers wait for the last messages after the senders stop.
const DRAIN: Duration = Duration::from_secs(15);
/// How long after the last send receivers still missing something are
/// told to give up after [`DRAIN`].
const STOP_GRACE: Duration = Duration::from_secs(1);
const PASSWORD: &str = "a long enough secret";
/// Sockets one generator process opens at most (the open-file limit here
/// is 20,000 per process).
const PER_PROCESS: usize = 15_000;

#[derive(Clone, Debug)]
struct Options {
    url: String,
    scenario: String,
    clients: usize,
    senders: usize,
    room_size: usize,
    rate: f64,
    duration: Duration,
    server_pid: Option<u32>,
    json: Option<String>,
    /// Registrations and connections in flight at once.
    concurrency: usize,
    /// Sign in seeded users from `seed{N}` on instead of registering.
    seeded: Option<usize>,
    /// The room the history scenario reads (and the search scenario
    /// searches, if given).
    room: Option<RoomId>,
    /// What the search scenario searches for.
    query: String,
    /// Local addresses 127.0.0.1… to spread connections over.
    sources: u8,
}

impl Options {
    fn parse() -> Result<Self, Error> {
        let mut options = Options {
            url: "http://127.0.0.1:3000".into(),
            scenario: "fanout".into(),
            clients: 100,
            senders: 10,
            room_size: 10,
            rate: 100.0,
            duration: Duration::from_secs(10),
            server_pid: None,
            json: None,
            concurrency: 32,
            seeded: None,
            room: None,
            query: "apple".into(),
            sources: 1,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--url" => options.url = value()?,
                "--scenario" => options.scenario = value()?,
                "--clients" => options.clients = value()?.parse()?,
                "--senders" => options.senders = value()?.parse()?,
                "--room-size" => options.room_size = value()?.parse()?,
                "--rate" => options.rate = value()?.parse()?,
                "--duration" => options.duration = Duration::from_secs_f64(value()?.parse()?),
                "--server-pid" => options.server_pid = Some(value()?.parse()?),
                "--json" => options.json = Some(value()?),
                "--concurrency" => options.concurrency = value()?.parse()?,
                "--seeded" => options.seeded = Some(value()?.parse()?),
                "--room" => options.room = Some(RoomId(value()?.parse()?)),
                "--query" => options.query = value()?,
                "--sources" => options.sources = value()?.parse::<u8>()?.max(1),
                "--help" | "-h" => {
                    println!("{}", include_str!("usage.txt"));
                    std::process::exit(0);
                }
                other => return Err(format!("unknown flag {other} (see --help)").into()),
            }
        }
        if !["fanout", "rooms", "durable", "idle", "history", "search"].contains(&options.scenario.as_str()) {
            return Err(format!("unknown scenario {}", options.scenario).into());
        }
        if options.scenario == "durable" {
            // Every client alone in its room, every one sending: what the
            // group-commit writer sustains, seen through the acks.
            options.scenario = "rooms".into();
            options.room_size = 1;
        }
        if options.clients == 0 || options.room_size == 0 || options.rate <= 0.0 {
            return Err("--clients, --room-size and --rate must be positive".into());
        }
        if options.scenario == "history" && options.room.is_none() {
            return Err("--scenario history needs --room ID (see `salon-bench seed`)".into());
        }
        options.senders = options.senders.clamp(1, options.clients);
        Ok(options)
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("table") => return table(&args[1..]),
        Some("seed") => return seed::seed(seed::SeedOptions::parse(&args[1..])?).await,
        Some("hold") => return hold(&args[1..]).await,
        _ => {}
    }
    let options = Options::parse()?;
    // Thousands of sockets: the soft limit of open files up to the hard one.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let run = format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis());
    let http = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build()?;

    let started = Instant::now();
    let cookies = match options.seeded {
        Some(first) => {
            eprintln!("signing in {} seeded users…", options.clients);
            let names =
                (first..first + options.clients).map(|i| format!("{}{i}", seed::USER_PREFIX)).collect();
            in_parallel(options.concurrency, names, {
                let (http, url) = (http.clone(), options.url.clone());
                move |name| sign_in(http.clone(), url.clone(), name)
            })
            .await?
        }
        None => {
            eprintln!("registering {} users…", options.clients);
            let names = (0..options.clients).map(|i| format!("b{run}u{i}")).collect();
            in_parallel(options.concurrency, names, {
                let (http, url) = (http.clone(), options.url.clone());
                move |name| register(http.clone(), url.clone(), name)
            })
            .await?
        }
    };
    let registered_in = started.elapsed();
    if let (Some(room), "history") = (options.room, options.scenario.as_str()) {
        let args = vec![("room", room.0.to_string()), ("before", i64::MAX.to_string())];
        let read =
            Read { endpoint: "room_history", args, items: "messages", full: app::domain::HISTORY_PAGE };
        return report(
            &options,
            registered_in,
            Duration::ZERO,
            1,
            reads(&options, &http, cookies, read).await?,
        );
    }
    if options.scenario == "search" {
        let mut args = vec![("query", options.query.clone())];
        args.extend(options.room.map(|room| ("room", room.0.to_string())));
        let read = Read { endpoint: "search", args, items: "hits", full: app::domain::SEARCH_PAGE };
        return report(
            &options,
            registered_in,
            Duration::ZERO,
            1,
            reads(&options, &http, cookies, read).await?,
        );
    }

    // Rooms: one for fan-out, groups of `room_size` otherwise; the first
    // member of each creates it and the others join.
    let room_size = match options.scenario.as_str() {
        "fanout" => options.clients,
        _ => options.room_size,
    };
    let mut rooms = Vec::new();
    for (index, group) in cookies.chunks(room_size).enumerate() {
        let room = create_room(&http, &options.url, &group[0], &format!("bench {run} {index}")).await?;
        rooms.push(room);
    }
    let joins: Vec<(String, RoomId)> = cookies
        .iter()
        .enumerate()
        .filter(|(i, _)| i % room_size != 0)
        .map(|(i, cookie)| (cookie.clone(), rooms[i / room_size]))
        .collect();
    in_parallel(options.concurrency, joins, {
        let (http, url) = (http.clone(), options.url.clone());
        move |(cookie, room)| join(http.clone(), url.clone(), cookie, room)
    })
    .await?;

    let subscriptions: Vec<(String, RoomId)> =
        cookies.iter().enumerate().map(|(i, cookie)| (cookie.clone(), rooms[i / room_size])).collect();
    if options.scenario == "idle" {
        let (results, server_before, connected_in) = idle(&options, subscriptions).await?;
        return report(&options, registered_in, connected_in, rooms.len(), (results, server_before));
    }
    eprintln!("connecting {} sockets…", options.clients);
    let started = Instant::now();
    let sockets = connect_all(&options.url, options.sources, 0, options.concurrency, subscriptions).await?;
    let connected_in = started.elapsed();
    // A profiler started on this line sees the traffic alone.
    eprintln!("sending for {:?}…", options.duration);
    let results = traffic(&options, &run, sockets, room_size).await?;
    report(&options, registered_in, connected_in, rooms.len(), results)
}

/// What a scenario measured, with the server's CPU time and memory over
/// it, printed and written as JSON.
fn report(
    options: &Options,
    registered_in: Duration,
    connected_in: Duration,
    rooms: usize,
    (results, server_before): (serde_json::Value, Option<ProcessStats>),
) -> Result<(), Error> {
    let server_after = options.server_pid.and_then(process_stats);
    let server = match (server_before, server_after) {
        (Some(before), Some(after)) => json!({
            "cpu_seconds": after.cpu_seconds - before.cpu_seconds,
            "rss_kb": after.rss_kb,
            "peak_rss_kb": after.peak_rss_kb,
        }),
        _ => json!(null),
    };
    let result = json!({
        "scenario": options.scenario,
        "clients": options.clients,
        "rooms": rooms,
        "senders": if matches!(options.scenario.as_str(), "idle" | "history") { 0 } else { options.senders },
        "rate": options.rate,
        "duration_s": options.duration.as_secs_f64(),
        "registered_in_s": registered_in.as_secs_f64(),
        "connected_in_s": connected_in.as_secs_f64(),
        "results": results,
        "server": server,
    });
    println!("{}", serde_json::to_string_pretty(&result)?);
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_vec_pretty(&result)?)?;
    }
    Ok(())
}

/// `salon-bench table FILE…`: the JSON results of runs as one Markdown
/// table (a history run's page reads in the rate and latency columns, as
/// the server timed them), then history round trips and the front-end
/// figures if the files hold them.
fn table(files: &[String]) -> Result<(), Error> {
    println!("| Scenario | Clients | Rate (msg/s) | Deliveries/s (history: pages/s) | Gaps / dups / missing | Latency p50 / p99 / p99.9 / max (ms): send→receive (history: page read, server-side) | Send→ack p99 (ms) | Server CPU-s | Server peak RSS (MB) | RSS per connection (KB) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let number = |value: &serde_json::Value, digits: usize| {
        value.as_f64().map_or_else(|| "–".to_owned(), |n| format!("{n:.digits$}"))
    };
    let quantiles = |latency: &serde_json::Value| {
        format!(
            "{} / {} / {} / {}",
            number(&latency["p50"], 2),
            number(&latency["p99"], 2),
            number(&latency["p99_9"], 2),
            number(&latency["max"], 2)
        )
    };
    let (mut front_end, mut round_trips) = (Vec::new(), Vec::new());
    for file in files {
        let run: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)?;
        if run.get("sign_in_page").is_some() {
            front_end.push(run);
            continue;
        }
        if run.get("scenario").is_none() {
            continue;
        }
        let results = &run["results"];
        let history = run["scenario"] == "history" || run["scenario"] == "search";
        let name = file.rsplit('/').next().unwrap_or(file).trim_end_matches(".json");
        if history {
            round_trips.push((name, quantiles(&results["page_latency_ms"]), run["clients"].clone()));
        }
        let latency = if history { &results["server_ms"] } else { &results["send_to_receive_ms"] };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            name,
            run["clients"],
            if results.get("sent").is_some() { number(&run["rate"], 0) } else { "–".into() },
            number(if history { &results["pages_per_s"] } else { &results["deliveries_per_s"] }, 0),
            match (results.get("gaps"), results.get("duplicates"), results.get("missing")) {
                (Some(g), Some(d), Some(m)) => format!("{g} / {d} / {m}"),
                _ => "–".into(),
            },
            if latency.is_object() { quantiles(latency) } else { "–".into() },
            number(&results["send_to_ack_ms"]["p99"], 2),
            number(&run["server"]["cpu_seconds"], 1),
            run["server"]["peak_rss_kb"]
                .as_f64()
                .map_or_else(|| "–".to_owned(), |kb| format!("{:.0}", kb / 1024.0)),
            number(&results["rss_per_connection_kb"], 1),
        );
    }
    for (name, latency, clients) in round_trips {
        println!("\n{name}: page read round trip as {clients} client(s) saw it, p50 / p99 / p99.9 / max: {latency} ms.");
    }
    for run in front_end {
        let kb = |value: &serde_json::Value| number(&(value.as_f64().map(|b| b / 1000.0).into()), 0);
        let profile = &run["profile"];
        println!(
            "\nFront end on a phone profile ({}× CPU slowdown, {} Mbit/s, {} ms round trip), medians of {} runs:\n",
            profile["cpuSlowdown"], profile["megabitsPerSecond"], profile["roundTripMs"], run["runs"]
        );
        println!("| Page | First visit: KB on the wire (wasm / js / css / document) | Requests | First contentful paint (ms) | Interactive (ms) | Repeat visit: KB on the wire | Repeat: interactive (ms) |");
        println!("|---|---|---|---|---|---|---|");
        for (name, page) in
            [("sign-in", &run["sign_in_page"]), ("room (10 M messages)", &run["room_page_of_history_room"])]
        {
            let (first, repeat) = (&page["first_visit"], &page["repeat_visit"]);
            println!(
                "| {name} | {} ({} / {} / {} / {}) | {} | {} | {} | {} | {} |",
                kb(&first["bytes"]["total"]),
                kb(&first["bytes"]["wasm"]),
                kb(&first["bytes"]["js"]),
                kb(&first["bytes"]["css"]),
                kb(&first["bytes"]["document"]),
                first["requests"],
                number(&first["first_contentful_paint_ms"], 0),
                number(&first["interactive_ms"], 0),
                kb(&repeat["bytes"]["total"]),
                number(&repeat["interactive_ms"], 0),
            );
        }
        let offline = &run["room_page_of_history_room"]["offline_start"];
        if offline.is_object() {
            println!(
                "\nThe room page opened again with no network (as the service worker kept it): first contentful paint {} ms, interactive {} ms.",
                number(&offline["first_contentful_paint_ms"], 0),
                number(&offline["interactive_ms"], 0),
            );
        }
    }
    Ok(())
}

/// What every socket task counts.
#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
    gaps: AtomicU64,
    duplicates: AtomicU64,
}

/// Runs the senders for the duration while every socket receives, then
/// waits for the last deliveries.
async fn traffic(
    options: &Options,
    run: &str,
    sockets: Vec<(RoomId, Socket)>,
    room_size: usize,
) -> Result<(serde_json::Value, Option<ProcessStats>), Error> {
    let server_before = options.server_pid.and_then(process_stats);
    let counters = Arc::new(Counters::default());
    // Messages sent to each room, for knowing when receivers are done.
    let room_count = sockets.len().div_ceil(room_size);
    let sent_per_room: Arc<Vec<AtomicU64>> = Arc::new((0..room_count).map(|_| AtomicU64::new(0)).collect());
    let room_index: Arc<HashMap<RoomId, usize>> = Arc::new({
        let mut index = HashMap::new();
        for (i, (room, _)) in sockets.iter().enumerate() {
            index.entry(*room).or_insert(i / room_size);
        }
        index
    });
    let stop = Arc::new(Stop::default());
    let mut sinks = Vec::new();
    let mut receivers = Vec::new();
    for (room, socket) in sockets {
        let (sink, stream) = socket.split();
        // What this socket sent: it waits for as many acks before it stops.
        let own = Arc::new(AtomicU64::new(0));
        sinks.push((room, sink, own.clone()));
        receivers.push(tokio::spawn(receive(
            stream,
            Received::new(),
            own,
            sent_per_room.clone(),
            room_index.clone(),
            stop.clone(),
        )));
    }
    // Senders: the first `senders` sockets (fan-out), or the first socket of
    // each room; they share the rate, taking turns.
    let senders: Vec<(RoomId, SplitSink<Socket, WsMessage>, Arc<AtomicU64>)> = if options.scenario == "fanout"
    {
        sinks.into_iter().take(options.senders).collect()
    } else {
        sinks.into_iter().step_by(room_size).collect()
    };
    let interval = Duration::from_secs_f64(1.0 / options.rate);
    let total = (options.rate * options.duration.as_secs_f64()) as u64;
    let (mut senders, started, started_at) = (senders, Instant::now(), now_micros());
    for i in 0..total {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let count = senders.len();
        let (room, sink, own) = &mut senders[i as usize % count];
        let frame = ClientFrame::Send {
            room: *room,
            client_id: ClientId::parse(&format!("{run}-{i}")).map_err(|p| format!("client id: {p:?}"))?,
            body: format!("t:{}", now_micros()),
            reply_to: None,
            attachments: Vec::new(),
        };
        sink.send(WsMessage::text(serde_json::to_string(&frame)?)).await?;
        counters.sent.fetch_add(1, Ordering::Relaxed);
        own.fetch_add(1, Ordering::Relaxed);
        if let Some(index) = room_index.get(room) {
            sent_per_room[*index].fetch_add(1, Ordering::Relaxed);
        }
    }
    let sending = started.elapsed();
    // Receivers that have everything stop by themselves. The others are
    // told after a while to stop once they do, or after the drain time:
    // waking every receiver at once, as the last messages went out, was
    // itself those messages' delay.
    stop.sending_done.store(true, Ordering::Relaxed);
    tokio::time::sleep(STOP_GRACE).await;
    let deadline = Instant::now() + DRAIN;
    stop.notify.notify_waiters();
    // Every outcome first, then the sums: adding up histograms while
    // other receivers still receive slowed them down.
    let mut outcomes = Vec::with_capacity(receivers.len());
    for receiver in receivers {
        let remaining = deadline.saturating_duration_since(Instant::now());
        outcomes.push(tokio::time::timeout(remaining + Duration::from_millis(100), receiver).await);
    }
    let mut latency = histogram();
    let mut ack_latency = histogram();
    let mut lost = 0u64;
    let mut last_delivery = started_at;
    for outcome in &mut outcomes {
        match outcome {
            Ok(Ok((outcome, _))) => {
                for (histogram, latencies) in
                    [(&mut latency, &outcome.latencies), (&mut ack_latency, &outcome.ack_latencies)]
                {
                    for micros in latencies {
                        histogram.saturating_record((*micros).into());
                    }
                }
                lost += outcome.missing;
                last_delivery = last_delivery.max(outcome.last_at.unwrap_or(started_at));
                counters.delivered.fetch_add(outcome.delivered, Ordering::Relaxed);
                counters.acked.fetch_add(outcome.acked, Ordering::Relaxed);
                counters.gaps.fetch_add(outcome.gaps, Ordering::Relaxed);
                counters.duplicates.fetch_add(outcome.duplicates, Ordering::Relaxed);
            }
            _ => lost += 1,
        }
    }
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let delivering = Duration::from_micros(last_delivery.saturating_sub(started_at));
    let results = json!({
        "sent": counters.sent.load(Ordering::Relaxed),
        "acked": counters.acked.load(Ordering::Relaxed),
        "delivered": delivered,
        // Over the time from the first send to the last delivery: an
        // overloaded server goes on delivering after the senders stop.
        "deliveries_per_s": delivered as f64 / delivering.max(sending).as_secs_f64(),
        "delivering_s": delivering.as_secs_f64(),
        "gaps": counters.gaps.load(Ordering::Relaxed),
        "duplicates": counters.duplicates.load(Ordering::Relaxed),
        "missing": lost,
        "send_to_receive_ms": percentiles(&latency),
        "send_to_ack_ms": percentiles(&ack_latency),
    });
    Ok((results, server_before))
}

/// Connects every client and holds the sockets silent for the duration,
/// then reads the server's memory: what an idle connection costs. Above
/// [`PER_PROCESS`] sockets, child processes (`salon-bench hold`) open them.
async fn idle(
    options: &Options,
    subscriptions: Vec<(String, RoomId)>,
) -> Result<(serde_json::Value, Option<ProcessStats>, Duration), Error> {
    let server_before = options.server_pid.and_then(process_stats);
    let processes = subscriptions.len().div_ceil(PER_PROCESS);
    eprintln!("connecting {} sockets from {} process(es)…", subscriptions.len(), processes.max(1));
    let started = Instant::now();
    let mut local = Vec::new();
    let mut children = Vec::new();
    if processes <= 1 {
        local = connect_all(&options.url, options.sources, 0, options.concurrency, subscriptions).await?;
    } else {
        let share = subscriptions.len().div_ceil(processes);
        for (k, part) in subscriptions.chunks(share).enumerate() {
            let mut child = std::process::Command::new(std::env::current_exe()?)
                .args(["hold", "--url", &options.url, "--sources", &options.sources.to_string()])
                .args([
                    "--offset",
                    &(k * share).to_string(),
                    "--concurrency",
                    &options.concurrency.to_string(),
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()?;
            let mut input = child.stdin.take().ok_or("no stdin")?;
            let mut lines = String::new();
            for (cookie, room) in part {
                lines.push_str(&format!("{cookie}\t{}\n", room.0));
            }
            lines.push('\n');
            std::io::Write::write_all(&mut input, lines.as_bytes())?;
            children.push((child, input));
        }
        for (child, _) in &mut children {
            let output = child.stdout.take().ok_or("no stdout")?;
            let line = tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                std::io::BufRead::read_line(&mut std::io::BufReader::new(output), &mut line).map(|_| line)
            })
            .await??;
            if !line.starts_with("ready") {
                return Err(format!("a holding process failed: {line:?}").into());
            }
        }
    }
    let connected_in = started.elapsed();
    // CPU time is counted from here, as in the other scenarios; memory
    // from before the connections.
    let rss_before = server_before.as_ref().map(|s| s.rss_kb);
    let server_before = options.server_pid.and_then(process_stats);
    tokio::time::sleep(options.duration).await;
    let rss_after = options.server_pid.and_then(process_stats).map(|s| s.rss_kb);
    let per_connection = match (rss_before, rss_after) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before) as f64 / options.clients as f64),
        _ => None,
    };
    drop(local);
    for (mut child, input) in children {
        drop(input);
        child.wait()?;
    }
    let results = json!({
        "processes": processes.max(1),
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "rss_per_connection_kb": per_connection,
    });
    Ok((results, server_before, connected_in))
}

/// `salon-bench hold`: opens the sockets listed on stdin (`cookie<TAB>room`
/// lines, up to an empty one), prints `ready`, and holds them until stdin
/// closes. The idle scenario's child processes.
async fn hold(args: &[String]) -> Result<(), Error> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let (mut url, mut sources, mut offset, mut concurrency) = (String::new(), 1u8, 0usize, 32usize);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => url = value.clone(),
            "--sources" => sources = value.parse()?,
            "--offset" => offset = value.parse()?,
            "--concurrency" => concurrency = value.parse()?,
            other => return Err(format!("hold: unknown flag {other}").into()),
        }
    }
    let subscriptions = tokio::task::spawn_blocking(|| -> Result<Vec<(String, RoomId)>, String> {
        let mut subscriptions = Vec::new();
        for line in std::io::stdin().lines() {
            let line = line.map_err(|e| e.to_string())?;
            let Some((cookie, room)) = line.split_once('\t') else { break };
            subscriptions.push((cookie.to_owned(), RoomId(room.parse().map_err(|_| "bad room id")?)));
        }
        Ok(subscriptions)
    })
    .await??;
    let sockets = connect_all(&url, sources, offset, concurrency, subscriptions).await;
    match &sockets {
        Ok(sockets) => println!("ready {}", sockets.len()),
        Err(error) => println!("error {error}"),
    }
    // Held until the parent closes stdin.
    tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await?;
    drop(sockets);
    Ok(())
}

/// A read the history and search scenarios repeat: a server function, its
/// arguments, the list its answer holds and how long a full page is.
struct Read {
    endpoint: &'static str,
    args: Vec<(&'static str, String)>,
    items: &'static str,
    full: usize,
}

/// The history and search scenarios: each client makes `read` over HTTP
/// (the newest page of a room, or the first page of a search), again and
/// again, for the duration.
async fn reads(
    options: &Options,
    http: &reqwest::Client,
    cookies: Vec<String>,
    read: Read,
) -> Result<(serde_json::Value, Option<ProcessStats>), Error> {
    let read = Arc::new(read);
    let server_before = options.server_pid.and_then(process_stats);
    let started = Instant::now();
    let deadline = started + options.duration;
    let readers: Vec<_> = cookies
        .into_iter()
        .map(|cookie| {
            let (http, url, asked_for) = (http.clone(), options.url.clone(), read.clone());
            tokio::spawn(async move {
                let mut read = Reads::default();
                let args: Vec<(&str, &str)> = asked_for.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                while Instant::now() < deadline {
                    let asked = Instant::now();
                    let Ok(response) = call(&http, &url, &cookie, asked_for.endpoint, &args).await else {
                        read.errors += 1;
                        continue;
                    };
                    let server = server_time(&response);
                    let Ok(page) = response.json::<serde_json::Value>().await else {
                        read.errors += 1;
                        continue;
                    };
                    let _ = read.latency.record(asked.elapsed().as_micros().max(1) as u64);
                    match server {
                        Some(micros) => {
                            let _ = read.server.record(micros.max(1));
                        }
                        None => read.untimed += 1,
                    }
                    read.pages += 1;
                    let count = page[asked_for.items].as_array().map_or(0, Vec::len);
                    read.short_pages += u64::from(count != asked_for.full);
                }
                read
            })
        })
        .collect();
    let mut all = Reads::default();
    for reader in readers {
        let read = reader.await?;
        all.latency.add(&read.latency)?;
        all.server.add(&read.server)?;
        all.pages += read.pages;
        all.short_pages += read.short_pages;
        all.errors += read.errors;
        all.untimed += read.untimed;
    }
    let results = json!({
        "pages": all.pages,
        "pages_per_s": all.pages as f64 / started.elapsed().as_secs_f64(),
        "short_pages": all.short_pages,
        "errors": all.errors,
        "pages_without_server_timing": all.untimed,
        "server_ms": percentiles(&all.server),
        "page_latency_ms": percentiles(&all.latency),
    });
    Ok((results, server_before))
}

/// What one history reader measured.
struct Reads {
    /// Round trips, as the generator sees them.
    latency: Histogram<u64>,
    /// The server's own time, from its `Server-Timing` header.
    server: Histogram<u64>,
    pages: u64,
    /// Pages of fewer than 50 messages (the room has millions).
    short_pages: u64,
    errors: u64,
    /// Answers without a readable `Server-Timing` header.
    untimed: u64,
}

impl Default for Reads {
    fn default() -> Self {
        Self { latency: histogram(), server: histogram(), pages: 0, short_pages: 0, errors: 0, untimed: 0 }
    }
}

/// The server's time for a response in microseconds, from
/// `Server-Timing: app;dur=MILLISECONDS`.
fn server_time(response: &reqwest::Response) -> Option<u64> {
    let header = response.headers().get("server-timing")?.to_str().ok()?;
    let millis: f64 = header.split(';').find_map(|part| part.trim().strip_prefix("dur="))?.parse().ok()?;
    Some((millis * 1000.0).round() as u64)
}

/// A frame the generator measures: a message of the room, or the ack of
/// one of its own sends.
#[derive(Debug, PartialEq)]
enum Measured {
    Message { room: i64, seq: i64, sent: Option<u64> },
    Ack { sent: Option<u64> },
}

/// Reads what is measured straight from a frame's text, as the server
/// writes it (`{"type":"message","message":{"room":R,"seq":S,…,"body":"t:T",…`;
/// the test below holds it to the protocol's own encoding). At a million
/// frames a second, serde_json skipping every other field of a message
/// (its author, its HTML…) took a third of the generator's CPU.
fn measured(text: &str) -> Option<Measured> {
    static MESSAGE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(br#""message":{"room":"#));
    static BODY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(br#","body":""#));
    let kind = text.strip_prefix(r#"{"type":""#)?;
    let is_message = kind.starts_with(r#"message""#);
    if !is_message && !kind.starts_with(r#"ack""#) {
        return None;
    }
    let at = MESSAGE.find(kind.as_bytes())? + MESSAGE.needle().len();
    let (room, rest) = leading_integer(&kind[at..])?;
    let (seq, rest) = leading_integer(rest.strip_prefix(r#","seq":"#)?)?;
    // The body is the first string after the author: any `"` inside a
    // string is escaped, so the pattern cannot match within one.
    let sent = BODY.find(rest.as_bytes()).and_then(|at| sent_at(&rest[at + BODY.needle().len()..]));
    Some(if is_message { Measured::Message { room, seq, sent } } else { Measured::Ack { sent } })
}

/// The integer `text` starts with, and what follows it.
fn leading_integer(text: &str) -> Option<(i64, &str)> {
    let end = text.find(|c: char| !c.is_ascii_digit() && c != '-').unwrap_or(text.len());
    Some((text[..end].parse().ok()?, &text[end..]))
}

/// What one receiver saw. Latencies are kept as a list (µs) and made into
/// histograms once the run is over: a histogram per receiver (172 KB,
/// 1 µs to 10 minutes at three digits) is 860 MB for 5,000 receivers,
/// and recording into it missed the cache on every frame.
struct Received {
    latencies: Vec<u32>,
    ack_latencies: Vec<u32>,
    delivered: u64,
    acked: u64,
    gaps: u64,
    duplicates: u64,
    /// Messages of its room this socket never received.
    missing: u64,
    /// When its last message arrived, µs since the Unix epoch.
    last_at: Option<u64>,
}

impl Received {
    fn new() -> Self {
        Self {
            latencies: Vec::new(),
            ack_latencies: Vec::new(),
            delivered: 0,
            acked: 0,
            gaps: 0,
            duplicates: 0,
            missing: 0,
            last_at: None,
        }
    }
}

/// The senders are done: receivers stop once they have every message and
/// ack, or after [`DRAIN`] once told.
#[derive(Default)]
struct Stop {
    sending_done: AtomicBool,
    notify: tokio::sync::Notify,
}

async fn receive(
    mut stream: SplitStream<Socket>,
    mut received: Received,
    own_sent: Arc<AtomicU64>,
    sent_per_room: Arc<Vec<AtomicU64>>,
    room_index: Arc<HashMap<RoomId, usize>>,
    stop: Arc<Stop>,
) -> (Received, SplitStream<Socket>) {
    let mut last_seq: Option<i64> = None;
    let mut count = 0u64;
    let mut acks = 0u64;
    let mut room = None;
    let stopped = stop.notify.notified();
    // Made once and set when told to stop: a timer made in every turn of
    // the loop cost the generator more than the frame it read.
    let drained = tokio::time::sleep(Duration::from_secs(86_400));
    tokio::pin!(stopped, drained);
    let (mut draining, mut told) = (false, false);
    loop {
        draining = draining || stop.sending_done.load(Ordering::Relaxed);
        if draining {
            let expected =
                room.and_then(|r| room_index.get(&r)).map(|i| sent_per_room[*i].load(Ordering::Relaxed));
            let all_acked = acks >= own_sent.load(Ordering::Relaxed);
            if all_acked
                && (expected.is_some_and(|expected| count >= expected) || room.is_none() && count == 0)
            {
                break;
            }
        }
        let next = tokio::select! {
            biased;
            next = stream.next() => next,
            _ = &mut stopped, if !told => {
                (draining, told) = (true, true);
                drained.as_mut().reset(tokio::time::Instant::now() + DRAIN);
                continue;
            }
            _ = &mut drained, if told => break,
        };
        let Some(Ok(WsMessage::Text(text))) = next else {
            if matches!(next, Some(Ok(_))) {
                continue;
            }
            break;
        };
        let now = now_micros();
        let latency =
            |sent: Option<u64>| sent.map(|sent| now.saturating_sub(sent).clamp(1, u32::MAX.into()) as u32);
        match measured(&text) {
            Some(Measured::Message { room: in_room, seq, sent }) => {
                room = Some(RoomId(in_room));
                count += 1;
                received.last_at = Some(now);
                match last_seq {
                    Some(last) if seq <= last => received.duplicates += 1,
                    Some(last) if seq > last + 1 => received.gaps += 1,
                    _ => {}
                }
                last_seq = Some(last_seq.map_or(seq, |last| last.max(seq)));
                received.latencies.extend(latency(sent));
            }
            Some(Measured::Ack { sent }) => {
                acks += 1;
                received.ack_latencies.extend(latency(sent));
            }
            None => {}
        }
    }
    received.delivered = count;
    received.acked = acks;
    if let Some(index) = room.and_then(|r| room_index.get(&r)) {
        received.missing = sent_per_room[*index].load(Ordering::Relaxed).saturating_sub(count);
    }
    // The socket stays open until every receiver is done: closed at once,
    // the first ones to finish made the server busy with their departures
    // while it still sent the last message to the others.
    (received, stream)
}

/// The send time a body carries (`t:MICROSECONDS…`; a frame's text may
/// follow the digits).
fn sent_at(body: &str) -> Option<u64> {
    let (sent, _) = leading_integer(body.strip_prefix("t:")?)?;
    u64::try_from(sent).ok()
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or_default()
}

/// Latencies in µs, from 1 µs to 10 minutes, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn percentiles(histogram: &Histogram<u64>) -> serde_json::Value {
    let ms = |us: u64| us as f64 / 1000.0;
    json!({
        "count": histogram.len(),
        "p50": ms(histogram.value_at_quantile(0.50)),
        "p99": ms(histogram.value_at_quantile(0.99)),
        "p99_9": ms(histogram.value_at_quantile(0.999)),
        "max": ms(histogram.max()),
    })
}

/// Runs `task` on every item with at most `limit` at once; results in the
/// items' order.
async fn in_parallel<I, T, F, Fut>(limit: usize, items: Vec<I>, task: F) -> Result<Vec<T>, Error>
where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut handles = Vec::with_capacity(items.len());
    for item in items {
        let permit = permits.clone().acquire_owned().await?;
        let future = task(item);
        handles.push(tokio::spawn(async move {
            let result = future.await;
            drop(permit);
            result
        }));
    }
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await??);
    }
    Ok(results)
}

async fn register(http: reqwest::Client, base: String, username: String) -> Result<String, Error> {
    let email = format!("{username}@example.com");
    let response = http
        .post(format!("{base}/api/register"))
        .header("origin", &base)
        .form(&[
            ("username", username.as_str()),
            ("email", &email),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await?
        .error_for_status()?;
    session_cookie(&response)
}

async fn sign_in(http: reqwest::Client, base: String, username: String) -> Result<String, Error> {
    let response = http
        .post(format!("{base}/api/login"))
        .header("origin", &base)
        .form(&[("login", username.as_str()), ("password", PASSWORD)])
        .send()
        .await?
        .error_for_status()?;
    session_cookie(&response)
}

fn session_cookie(response: &reqwest::Response) -> Result<String, Error> {
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

async fn call(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    function: &str,
    args: &[(&str, &str)],
) -> Result<reqwest::Response, Error> {
    let response = http
        .post(format!("{base}/api/{function}"))
        .header("origin", base)
        .header("cookie", cookie)
        .form(args)
        .send()
        .await?
        .error_for_status()?;
    Ok(response)
}

async fn create_room(http: &reqwest::Client, base: &str, cookie: &str, name: &str) -> Result<RoomId, Error> {
    let response =
        call(http, base, cookie, "create_room", &[("name", name), ("topic", ""), ("visibility", "public")])
            .await?;
    let room: serde_json::Value = response.json().await?;
    Ok(RoomId(room["id"].as_i64().ok_or("no room id")?))
}

async fn join(http: reqwest::Client, base: String, cookie: String, room: RoomId) -> Result<(), Error> {
    call(&http, &base, &cookie, "join_room", &[("room", &room.0.to_string())]).await?;
    Ok(())
}

/// Opens and subscribes a socket per `(cookie, room)`, `concurrency` at a
/// time; the first is connection number `offset` (for its source address).
async fn connect_all(
    url: &str,
    sources: u8,
    offset: usize,
    concurrency: usize,
    subscriptions: Vec<(String, RoomId)>,
) -> Result<Vec<(RoomId, Socket)>, Error> {
    let url = url.to_owned();
    in_parallel(
        concurrency,
        subscriptions.into_iter().enumerate().collect(),
        move |(index, (cookie, room))| connect(url.clone(), source(offset + index, sources), cookie, room),
    )
    .await
}

/// The local address of connection `index`, spread over `sources`
/// loopback addresses (one address has about 28,000 ports to connect from).
fn source(index: usize, sources: u8) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 0, 0, 1 + (index % usize::from(sources.max(1))) as u8)
}

/// Opens a socket from `source` and subscribes it to `room` (no catch-up:
/// live only).
async fn connect(
    base: String,
    source: std::net::Ipv4Addr,
    cookie: String,
    room: RoomId,
) -> Result<(RoomId, Socket), Error> {
    let mut request = format!("{}/ws?v=1", base.replacen("http", "ws", 1)).into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    request.headers_mut().insert("origin", base.parse()?);
    let Some(host) = base.strip_prefix("http://") else {
        return Err("salon-bench speaks plain http:// and ws:// only".into());
    };
    let host = host.trim_end_matches('/');
    let host = if host.contains(':') { host.to_owned() } else { format!("{host}:80") };
    let server = tokio::net::lookup_host(&host).await?.find(|a| a.is_ipv4()).ok_or("no IPv4 address")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((source, 0).into())?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    // tungstenite zeroes its read buffer's free room before every read:
    // its default of 128 KiB was a 128 KiB memset per read (5 % of the
    // generator's CPU in fan-out to 5,000); 16 KiB still reads ≈ 50 frames
    // at once.
    let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
    let (mut socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    let frame = ClientFrame::Subscribe { room, after: None };
    socket.send(WsMessage::text(serde_json::to_string(&frame)?)).await?;
    // Wait for the answer, so that the traffic starts once all are in.
    loop {
        match socket.next().await {
            Some(Ok(WsMessage::Text(text))) => {
                if matches!(serde_json::from_str(&text), Ok(ServerFrame::Subscribed { .. })) {
                    return Ok((room, socket));
                }
            }
            Some(Ok(_)) => {}
            _ => return Err("socket closed before subscribing".into()),
        }
    }
}

/// A process's CPU time and memory, from /proc.
struct ProcessStats {
    cpu_seconds: f64,
    rss_kb: u64,
    peak_rss_kb: u64,
}

fn process_stats(pid: u32) -> Option<ProcessStats> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces), from field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15, in clock ticks (100 per second
    // on Linux).
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    Some(ProcessStats {
        cpu_seconds: ticks as f64 / 100.0,
        rss_kb: kb("VmRSS:")?,
        peak_rss_kb: kb("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process_figures() {
        let stats = process_stats(std::process::id()).expect("/proc is readable");
        assert!(stats.rss_kb > 0 && stats.peak_rss_kb >= stats.rss_kb);
        assert!(stats.cpu_seconds >= 0.0);
    }

    #[test]
    fn frames_are_measured_as_the_server_encodes_them() {
        use app::domain::{Message, PublicProfile, UserId};
        let message = Message {
            room: RoomId(7),
            seq: 42,
            // A name that looks like the body's field is escaped in JSON.
            author: PublicProfile {
                id: UserId(3),
                username: "ann".into(),
                display_name: r#"Ann ","body":"t:9"#.into(),
                avatar_version: Some(2),
            },
            body: "t:1234".into(),
            html: "<p>t:1234</p>".into(),
            sent_at: 1,
            client_id: ClientId::parse("run-1").expect("a valid client id"),
            event: None,
            edited_at: None,
            deleted: false,
            reply: None,
            reactions: Vec::new(),
            mentions: vec![UserId(4)],
            attachments: Vec::new(),
        };
        let encode = |frame: ServerFrame| serde_json::to_string(&frame).expect("frames encode");
        let client_id = message.client_id.clone();
        assert_eq!(
            measured(&encode(ServerFrame::Message { message: message.clone() })),
            Some(Measured::Message { room: 7, seq: 42, sent: Some(1234) })
        );
        assert_eq!(
            measured(&encode(ServerFrame::Ack { client_id, message })),
            Some(Measured::Ack { sent: Some(1234) })
        );
        assert_eq!(measured(&encode(ServerFrame::Resync { room: RoomId(7) })), None);
    }

    #[test]
    fn send_times_travel_in_the_body() {
        assert_eq!(sent_at("t:1234"), Some(1234));
        assert_eq!(sent_at("t:1234\",\"html\""), Some(1234));
        assert_eq!(sent_at("hello"), None);
        let mut histogram = histogram();
        histogram.record(1500).unwrap();
        assert_eq!(percentiles(&histogram)["count"], 1);
    }
}
