//! The `?next=` guard: whatever it accepts is a path of this site once a
//! browser reads it, a valid `Location` header, and accepted again as is.
#![no_main]

use app::domain::LocalPath;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let Some(path) = LocalPath::parse(raw) else { return };
    let path = path.as_str();
    assert!(path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\"), "{raw:?} → {path:?}");
    assert!(http::HeaderValue::from_str(path).is_ok(), "{raw:?} → {path:?}");
    let base = Url::parse("https://site.example/login").expect("a base");
    assert_eq!(base.join(path).expect("resolves").origin(), base.origin(), "{raw:?} → {path:?}");
    assert_eq!(LocalPath::parse(path).as_ref().map(LocalPath::as_str), Some(path), "{raw:?} is stable");
});
