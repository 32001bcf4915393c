//! Which site this is: the hosts it answers for and the origin whose
//! browsers may change anything.
//!
//! With `SALON_PUBLIC_ORIGIN` set, that origin is the site: requests for
//! any other host are refused (a name that an attacker points at this
//! server, DNS rebinding, gets nothing) and only that origin may write.
//! Without it, Salon serves plain HTTP on its own address: it answers for
//! loopback names and IP addresses (which no one can rebind), and the site
//! is `http://` + the request's `Host`. Origins are compared as the URL
//! standard defines them (scheme, host and port; default ports implied),
//! with the `url` crate.

use http::header;
use url::{Host, Origin, Url};

#[derive(Clone, Debug)]
pub struct SitePolicy {
    public: Option<Origin>,
}

/// Why a public origin cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the public origin must look like https://chat.example.org (scheme, host and optional port): {0}")]
pub struct BadPublicOrigin(String);

impl SitePolicy {
    pub fn new(public_origin: Option<&str>) -> Result<Self, BadPublicOrigin> {
        let public = match public_origin {
            None => None,
            Some(raw) => {
                let url = Url::parse(raw).map_err(|_| BadPublicOrigin(raw.into()))?;
                let origin = url.origin();
                let bare = url.path() == "/" && url.query().is_none() && url.username().is_empty();
                if !matches!(url.scheme(), "http" | "https") || !origin.is_tuple() || !bare {
                    return Err(BadPublicOrigin(raw.into()));
                }
                Some(origin)
            }
        };
        Ok(Self { public })
    }

    /// Whether this site answers requests for `host` (a `Host` header).
    pub fn serves_host(&self, host: &str) -> bool {
        match &self.public {
            Some(public @ Origin::Tuple(scheme, ..)) => origin_of(scheme, host).as_ref() == Some(public),
            Some(Origin::Opaque(_)) => false,
            None => parse_host(host).is_some_and(|host| match host {
                Host::Domain(name) => name == "localhost" || name.ends_with(".localhost"),
                Host::Ipv4(_) | Host::Ipv6(_) => true,
            }),
        }
    }

    /// Whether a state-changing request comes from this site. A browser
    /// says where a request comes from (`Sec-Fetch-Site`, `Origin`);
    /// requests with neither header (not from a browser) pass: the session
    /// cookie is `SameSite=Lax`, so a cross-site browser request cannot
    /// carry it anyway.
    pub fn is_same_origin(&self, headers: &http::HeaderMap) -> bool {
        if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            if !matches!(site, "same-origin" | "none") {
                return false;
            }
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Some(origin) = origin.to_str().ok().and_then(|o| Url::parse(o).ok()).map(|url| url.origin())
        else {
            return false;
        };
        match &self.public {
            Some(public) => &origin == public,
            None => headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .and_then(|host| origin_of("http", host))
                .is_some_and(|site| site == origin),
        }
    }
}

impl SitePolicy {
    /// The origin browsers reach this site at, for links made to be used
    /// elsewhere (a join link's QR code): the public origin, or `http://`
    /// + the request's `Host`.
    pub fn origin(&self, headers: &http::HeaderMap) -> Option<String> {
        match &self.public {
            Some(public) => Some(public.ascii_serialization()),
            None => {
                let host = headers.get(header::HOST)?.to_str().ok()?;
                origin_of("http", host).map(|origin| origin.ascii_serialization())
            }
        }
    }
}

/// The origin `scheme://host`, if `host` is only a host and a port.
fn origin_of(scheme: &str, host: &str) -> Option<Origin> {
    if host.is_empty() || host.contains(['/', '\\', '@', '?', '#']) {
        return None;
    }
    Url::parse(&format!("{scheme}://{host}/")).ok().map(|url| url.origin())
}

/// The host part of a `Host` header, parsed as a URL's host.
fn parse_host(host: &str) -> Option<Host<String>> {
    let origin = origin_of("http", host)?;
    match origin {
        Origin::Tuple(_, host, _) => Some(host),
        Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    fn by_host() -> SitePolicy {
        SitePolicy::new(None).unwrap()
    }

    fn public() -> SitePolicy {
        SitePolicy::new(Some("https://chat.example.org")).unwrap()
    }

    #[test]
    fn without_a_public_origin_only_loopback_names_and_addresses_are_served() {
        let site = by_host();
        for host in [
            "127.0.0.1:3000",
            "127.0.0.1",
            "localhost:3000",
            "LOCALHOST",
            "app.localhost:80",
            "[::1]:3000",
            "192.168.1.20:3000",
            "10.0.0.5",
        ] {
            assert!(site.serves_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "",
            "127.0.0.1/x",
            "a@127.0.0.1",
            "127.0.0.1:99999",
            "[::1",
        ] {
            assert!(!site.serves_host(host), "{host:?}");
        }
    }

    #[test]
    fn with_a_public_origin_only_its_host_and_port_are_served() {
        let site = public();
        for host in ["chat.example.org", "CHAT.example.org", "chat.example.org:443"] {
            assert!(site.serves_host(host), "{host}");
        }
        for host in [
            "chat.example.org:8443",
            "evil.example",
            "127.0.0.1",
            "localhost",
            "chat.example.org.evil.example",
        ] {
            assert!(!site.serves_host(host), "{host}");
        }
        let with_port = SitePolicy::new(Some("http://10.0.0.5:8080/")).unwrap();
        assert!(with_port.serves_host("10.0.0.5:8080"));
        assert!(!with_port.serves_host("10.0.0.5"));
        assert!(!with_port.serves_host("10.0.0.5:80"));
    }

    #[test]
    fn public_origins_must_be_bare_origins() {
        for bad in [
            "chat.example.org",
            "ftp://chat.example.org",
            "https://chat.example.org/salon",
            "https://u@chat.example.org",
            "https://",
        ] {
            assert!(SitePolicy::new(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_origin_means_same_scheme_host_and_port() {
        let site = by_host();
        let from = |origin: &'static str| {
            site.is_same_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", origin)]))
        };
        assert!(from("http://127.0.0.1:3000"));
        assert!(!from("https://127.0.0.1:3000"), "another scheme");
        assert!(!from("http://127.0.0.1:3001"), "another port");
        assert!(!from("http://127.0.0.1"), "another (default) port");
        assert!(!from("http://localhost:3000"), "another host");
        assert!(!from("http://evil.example"));
        assert!(!from("null"));
        assert!(!from("ws://127.0.0.1:3000"));
        assert!(!from("http://127.0.0.1:3000.evil.example"));
        assert!(
            site.is_same_origin(&headers(&[("host", "127.0.0.1"), ("origin", "http://127.0.0.1:80")])),
            "default port"
        );
        assert!(!site.is_same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!site.is_same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(site.is_same_origin(&headers(&[])), "not from a browser");

        let site = public();
        let from =
            |origin: &'static str| site.is_same_origin(&headers(&[("host", "10.0.0.5"), ("origin", origin)]));
        assert!(from("https://chat.example.org"));
        assert!(from("https://chat.example.org:443"));
        assert!(!from("http://chat.example.org"), "another scheme");
        assert!(!from("https://chat.example.org:8443"), "another port");
        assert!(!from("http://10.0.0.5"));
    }
}
