//! Paths of this site that Salon may send a browser to (`?next=` after
//! signing in): decided the way a browser resolves them, so that what is
//! accepted here is what the browser then opens.

/// An origin no request can name, to resolve paths against.
const BASE: &str = "http://salon.invalid";

/// A path (with query and fragment) on this site, serialized the way the
/// WHATWG URL parser does it: ASCII only, so it is always a valid
/// `Location` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPath(String);

/// What the URL parser made of a link: the whole URL, serialized, and the
/// parts the rule looks at.
struct Resolved {
    href: String,
    origin: String,
    has_credentials: bool,
    path: String,
}

impl LocalPath {
    pub fn home() -> Self {
        Self("/".into())
    }

    /// `raw` resolved as a browser resolves a link on this site, if it stays
    /// on this site. The URL parser (the WHATWG URL standard browsers
    /// follow) drops tabs and newlines, reads `\` as `/` and takes `//host`
    /// and `scheme:` for other sites, so each of those tricks resolves
    /// elsewhere and is refused. A path whose percent-decoded start names
    /// another host (`/%2F%2Fhost`, `/%5Chost`) is refused too, for any
    /// proxy or router that decodes before routing.
    pub fn parse(raw: &str) -> Option<Self> {
        let url = resolve(raw)?;
        if url.origin != BASE || url.has_credentials {
            return None;
        }
        let decoded = percent_encoding::percent_decode_str(&url.path).collect::<Vec<u8>>();
        if decoded.starts_with(b"//") || decoded.starts_with(b"/\\") {
            return None;
        }
        // Path, query and fragment, as serialized.
        url.href.strip_prefix(BASE).map(|local| Self(local.to_owned()))
    }

    /// `raw` if it is a path of this site, else home.
    pub fn or_home(raw: Option<&str>) -> Self {
        raw.and_then(Self::parse).unwrap_or_else(Self::home)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The server's URL parser: the `url` crate, which implements the standard.
#[cfg(not(target_family = "wasm"))]
fn resolve(raw: &str) -> Option<Resolved> {
    let url = url::Url::parse(BASE).ok()?.join(raw).ok()?;
    Some(Resolved {
        origin: url.origin().ascii_serialization(),
        has_credentials: !url.username().is_empty() || url.password().is_some(),
        path: url.path().to_owned(),
        href: url.into(),
    })
}

/// The browser's own URL parser, which the standard describes: the same
/// answers without shipping a second parser and its Unicode tables (56 KB
/// of the front end, brotli: docs/benchmarks.md) to every browser.
#[cfg(target_family = "wasm")]
fn resolve(raw: &str) -> Option<Resolved> {
    let url = web_sys::Url::new_with_base(raw, BASE).ok()?;
    Some(Resolved {
        href: url.href(),
        origin: url.origin(),
        has_credentials: !url.username().is_empty() || !url.password().is_empty(),
        path: url.pathname(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(raw: &str) -> Option<String> {
        LocalPath::parse(raw).map(|path| path.0)
    }

    #[test]
    fn paths_of_this_site_pass_as_the_browser_would_request_them() {
        assert_eq!(resolved("/profile").as_deref(), Some("/profile"));
        assert_eq!(resolved("/rooms/3?x=1#m").as_deref(), Some("/rooms/3?x=1#m"));
        assert_eq!(resolved("/u/ren%C3%A9").as_deref(), Some("/u/ren%C3%A9"));
        assert_eq!(resolved("/u/rené").as_deref(), Some("/u/ren%C3%A9"), "non-ASCII is encoded");
        assert_eq!(resolved("/a b").as_deref(), Some("/a%20b"));
        assert_eq!(resolved("profile").as_deref(), Some("/profile"), "relative to the site root");
        assert_eq!(resolved("/./u/../friends").as_deref(), Some("/friends"));
        assert_eq!(resolved("http://salon.invalid/x").as_deref(), Some("/x"));
    }

    /// Each of these, typed after `Location:` or in a link, takes a browser
    /// to another site (or nowhere useful).
    #[test]
    fn every_way_out_is_refused() {
        let tricks = [
            "//evil.example",
            "///evil.example",
            "https://evil.example",
            "https:evil.example",
            "HTTPS://evil.example",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/\u{0}/evil.example",
            "//evil.example/%2e%2e",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%5c%5cevil.example",
            "//user@evil.example",
            "http://user:pw@salon.invalid/x",
            "//salon.invalid@evil.example",
            "/\u{3000}/evil.example",
            "//evil。example",
        ];
        for trick in tricks {
            let path = resolved(trick);
            assert!(
                path.as_deref().is_none_or(|p| p.starts_with('/') && !p.starts_with("//")),
                "{trick:?} resolved to {path:?}"
            );
            if let Some(path) = &path {
                // What is accepted must stay on the site once a browser reads it.
                let base = url::Url::parse(BASE).unwrap();
                assert_eq!(base.join(path).unwrap().origin(), base.origin(), "{trick:?} → {path}");
            }
        }
        for trick in
            ["//evil.example", "https:evil.example", "/\t/evil.example", "/\\evil.example", "/%2F%2Fx"]
        {
            assert_eq!(resolved(trick), None, "{trick:?}");
        }
    }

    #[test]
    fn what_passes_is_always_a_valid_header_value() {
        for raw in ["/\u{7f}x", "/é?q=ü#ß", "/a\u{1}b", "/%0d%0aSet-Cookie:x", "/x?\r\nLocation: //e"] {
            let path = LocalPath::or_home(Some(raw));
            assert!(http::HeaderValue::from_str(path.as_str()).is_ok(), "{raw:?} → {path:?}");
        }
        assert_eq!(LocalPath::or_home(None), LocalPath::home());
    }
}
