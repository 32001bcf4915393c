//! Who the client is behind a reverse proxy. A request's address is the
//! TCP peer's, unless the peer is a trusted proxy (`--trusted-proxy`):
//! then `X-Forwarded-For` is read from the right (each proxy appends the
//! address it received from), skipping trusted proxies, and the first
//! address that is not one is the client. A peer that is not trusted
//! cannot claim another address: its header is ignored. Rate limits,
//! sign-in throttling and the request log use the result
//! ([`ClientAddress`], put in the request's extensions).

use app::services::limits::ClientAddress;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    pub fn new(networks: &[IpNet]) -> Self {
        Self(networks.into())
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client of a request from `peer` carrying `forwarded` (the
    /// `X-Forwarded-For` headers' values, in order).
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl DoubleEndedIterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return canonical(peer);
        }
        let hops = forwarded.rev().flat_map(|value| value.rsplit(','));
        let mut client = canonical(peer);
        for hop in hops {
            let Some(address) = parse_hop(hop) else {
                // A malformed entry: nothing left of it can be believed.
                break;
            };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, with a port as some load
/// balancers add (`192.0.2.1:4711`, `[2001:db8::1]:4711`) or without.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// Parses one `--trusted-proxy` value: a network (`10.0.0.0/8`) or an
/// address (`192.0.2.7`, a network of one).
pub fn parse_network(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("not an IP address or network (like 10.0.0.0/8): {value}"))
}

/// Puts the request's [`ClientAddress`] in its extensions (when it came
/// over a connection: not a request made in a test).
pub async fn client_address(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let forwarded = request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let client = proxies.client(peer.ip(), forwarded.collect::<Vec<_>>().into_iter());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(&networks.iter().map(|n| parse_network(n).unwrap()).collect::<Vec<_>>())
    }

    fn ip(address: &str) -> IpAddr {
        address.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        let client = |peer: &str, headers: &[&str]| trusted.client(ip(peer), headers.iter().copied());
        assert_eq!(client("127.0.0.1", &["203.0.113.5"]), ip("203.0.113.5"));
        assert_eq!(client("127.0.0.1", &["198.51.100.1, 203.0.113.5, 10.1.2.3"]), ip("203.0.113.5"));
        assert_eq!(client("127.0.0.1", &["198.51.100.1", "203.0.113.5"]), ip("203.0.113.5"), "two headers");
        assert_eq!(client("::ffff:127.0.0.1", &["2001:db8::1"]), ip("2001:db8::1"));
        assert_eq!(client("127.0.0.1", &[]), ip("127.0.0.1"), "no header: the proxy itself");
        assert_eq!(client("127.0.0.1", &["10.0.0.9"]), ip("10.0.0.9"), "only trusted hops: the leftmost");
        assert_eq!(client("127.0.0.1", &["not an address, 203.0.113.5"]), ip("203.0.113.5"));
        assert_eq!(client("127.0.0.1", &["203.0.113.5, garbage"]), ip("127.0.0.1"), "stops at garbage");
        assert_eq!(client("127.0.0.1", &["203.0.113.5:4711"]), ip("203.0.113.5"), "with a port");
        assert_eq!(client("127.0.0.1", &["[2001:db8::1]:4711"]), ip("2001:db8::1"));
        assert_eq!(client("127.0.0.1", &["[2001:db8::1]"]), ip("2001:db8::1"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(trusted.client(ip("198.51.100.7"), ["203.0.113.5"].into_iter()), ip("198.51.100.7"));
        let nobody = TrustedProxies::default();
        assert_eq!(nobody.client(ip("127.0.0.1"), ["203.0.113.5"].into_iter()), ip("127.0.0.1"));
    }

    #[test]
    fn networks_and_addresses_parse() {
        assert!(parse_network("10.0.0.0/8").is_ok());
        assert!(parse_network(" 192.0.2.7 ").is_ok());
        assert!(parse_network("2001:db8::/32").is_ok());
        assert!(parse_network("proxy.example.org").is_err());
        assert!(parse_network("10.0.0.0/33").is_err());
    }
}
