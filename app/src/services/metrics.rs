//! The figures `/metrics` shows, in Prometheus' text format: counters and
//! histograms that the hub, the message writer and the cluster link update
//! as they go (a relaxed atomic add each), read only when scraped. Rates
//! (messages or deliveries per second) are Prometheus' `rate()` of the
//! counters.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The process' metrics.
pub static METRICS: Metrics = Metrics {
    messages: Counter::new(),
    deliveries: Counter::new(),
    fanout_seconds: Histogram::new(&[0.00001, 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5]),
    commit_batch_size: Histogram::new(&[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]),
    commit_seconds: Histogram::new(&[0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5]),
    errors: Counter::new(),
    slow_sockets_closed: Counter::new(),
    relay_published: Counter::new(),
    relay_received: Counter::new(),
    relay_dropped: Counter::new(),
    pushes: Counter::new(),
    pushes_failed: Counter::new(),
    pushes_dropped: Counter::new(),
};

/// The counters and histograms of the process (every instance a test
/// process runs adds to the same ones); gauges are read from the instance
/// being scraped.
pub struct Metrics {
    pub messages: Counter,
    pub deliveries: Counter,
    pub fanout_seconds: Histogram,
    pub commit_batch_size: Histogram,
    pub commit_seconds: Histogram,
    pub errors: Counter,
    pub slow_sockets_closed: Counter,
    pub relay_published: Counter,
    pub relay_received: Counter,
    pub relay_dropped: Counter,
    pub pushes: Counter,
    pub pushes_failed: Counter,
    pub pushes_dropped: Counter,
}

/// What the scraped instance reports of itself.
pub struct Gauges {
    /// WebSocket connections open.
    pub connections: usize,
    /// Whether its Redis subscription is up; `None` without Redis.
    pub redis_connected: Option<bool>,
}

impl Metrics {
    /// Everything, in the text exposition format (version 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        let mut gauge = |name: &str, help: &str, value: usize| {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");
        };
        gauge("salon_connections", "WebSocket connections open on this instance.", gauges.connections);
        if let Some(connected) = gauges.redis_connected {
            gauge(
                "salon_redis_connected",
                "1 while this instance receives the other instances' live events.",
                usize::from(connected),
            );
        }
        let counters = [
            ("salon_messages_total", "Messages committed.", &self.messages),
            ("salon_deliveries_total", "Frames queued for a socket by a broadcast.", &self.deliveries),
            ("salon_errors_total", "Unexpected errors (each one is logged).", &self.errors),
            (
                "salon_slow_sockets_closed_total",
                "Sockets closed because their queue overflowed.",
                &self.slow_sockets_closed,
            ),
            (
                "salon_cluster_events_published_total",
                "Live events sent to the other instances.",
                &self.relay_published,
            ),
            (
                "salon_cluster_events_received_total",
                "Live events received from the other instances.",
                &self.relay_received,
            ),
            (
                "salon_cluster_events_dropped_total",
                "Live events that could not be sent to the other instances.",
                &self.relay_dropped,
            ),
            ("salon_pushes_total", "Notifications a push service took.", &self.pushes),
            (
                "salon_pushes_failed_total",
                "Notifications a push service refused or did not answer in time.",
                &self.pushes_failed,
            ),
            (
                "salon_pushes_dropped_total",
                "Messages not considered for notifications: the push queue was full.",
                &self.pushes_dropped,
            ),
        ];
        for (name, help, counter) in counters {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n", counter.get());
        }
        let histograms = [
            (
                "salon_fanout_seconds",
                "Time to queue one room frame for all of this instance's receivers.",
                &self.fanout_seconds,
            ),
            ("salon_commit_batch_size", "Messages per group commit.", &self.commit_batch_size),
            ("salon_commit_seconds", "Time to commit one group of messages.", &self.commit_seconds),
        ];
        for (name, help, histogram) in histograms {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} histogram\n");
            histogram.render(name, &mut out);
        }
        out
    }
}

pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    pub fn increment(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Most buckets a histogram has (its bounds, then +Inf).
const MAX_BUCKETS: usize = 16;

pub struct Histogram {
    /// Upper bounds, ascending; at most `MAX_BUCKETS - 1`.
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last is +Inf.
    buckets: [AtomicU64; MAX_BUCKETS],
    count: AtomicU64,
    /// The sum of observations, as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    const fn new(bounds: &'static [f64]) -> Self {
        assert!(bounds.len() < MAX_BUCKETS);
        Self {
            bounds,
            buckets: [const { AtomicU64::new(0) }; MAX_BUCKETS],
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        let bucket = self.bounds.iter().position(|bound| value <= *bound).unwrap_or(self.bounds.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let _ = self.sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + value).to_bits())
        });
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, name: &str, out: &mut String) {
        let mut cumulative = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.buckets[self.bounds.len()].load(Ordering::Relaxed);
        let sum = f64::from_bits(self.sum.load(Ordering::Relaxed));
        let _ = write!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {cumulative}\n{name}_sum {sum}\n{name}_count {cumulative}\n"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulative_buckets() {
        static SIZES: Histogram = Histogram::new(&[1.0, 10.0]);
        for value in [1.0, 5.0, 7.0, 100.0] {
            SIZES.observe(value);
        }
        let mut out = String::new();
        SIZES.render("sizes", &mut out);
        assert_eq!(
            out,
            "sizes_bucket{le=\"1\"} 1\nsizes_bucket{le=\"10\"} 3\nsizes_bucket{le=\"+Inf\"} 4\n\
             sizes_sum 113\nsizes_count 4\n"
        );
    }

    #[test]
    fn every_metric_is_typed_and_named() {
        let text = METRICS.render(&Gauges { connections: 3, redis_connected: Some(true) });
        assert!(text.contains("\nsalon_connections 3\n") && text.contains("\nsalon_redis_connected 1\n"));
        for name in [
            "salon_connections",
            "salon_messages_total",
            "salon_deliveries_total",
            "salon_fanout_seconds",
            "salon_commit_batch_size",
            "salon_errors_total",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name} in {text}");
        }
    }
}
