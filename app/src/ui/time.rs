//! Times as the reader reads them: in their own time zone and language.

use crate::i18n::use_i18n;
use leptos::prelude::*;

/// A time in the reader's time zone. The server does not know it, so the
/// time appears once the page runs in the browser. The hour and minute
/// (a message's time), or with `dated` the date too (when an account was
/// made, when a link expires).
#[component]
pub fn LocalTime(ms: i64, #[prop(optional)] dated: bool) -> impl IntoView {
    let i18n = use_i18n();
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let iso = iso_datetime(ms);
    view! {
        <time datetime=iso>
            {move || mounted.get().then(|| local_time(ms, i18n.lang.get().code(), dated))}
        </time>
    }
}

fn iso_datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn local_time(ms: i64, lang: &str, dated: bool) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        let options = js_sys::Object::new();
        if dated {
            let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
            let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
            return date.to_locale_string(lang, &options).into();
        }
        let _ = js_sys::Reflect::set(&options, &"hour".into(), &"2-digit".into());
        let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
        date.to_locale_time_string_with_options(lang, &options).into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ms, lang, dated);
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso_datetime(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_datetime(1_763_769_600_000), "2025-11-22T00:00:00Z");
        assert_eq!(iso_datetime(951_782_400_000 + 3_723_000), "2000-02-29T01:02:03Z");
    }
}
