//! What pages put into the document's `<head>`.
//!
//! leptos_meta 0.8 (0.8.7, the latest 0.8, and the 0.9 candidates alike)
//! writes the title into the server-rendered head as it is, without
//! escaping (`ServerMetaContextOutput::inject_meta_context` pushes the text
//! between `<title>` and `</title>`): a room or display name such as
//! `</title><meta http-equiv=refresh …>` would become markup in every page
//! that shows it. `<Meta>`, `<Link>` and `<Html>` render their attributes
//! through tachys, which escapes them. So every title goes through
//! [`DocumentTitle`], never through `leptos_meta::Title` directly (clippy's
//! `disallowed-methods` says so, see `clippy.toml`).

use leptos::prelude::*;

/// Sets the document title. The text is escaped where it becomes markup
/// (the server-rendered head) and given as is where it is text (the
/// browser's `document.title`).
#[component]
pub fn DocumentTitle(#[prop(into)] text: String) -> impl IntoView {
    #[allow(clippy::disallowed_methods)]
    let title = view! { <leptos_meta::Title text=head_text(text) /> };
    title
}

/// `text` as it must be written into server-rendered markup: `&`, `<` and
/// `>` escaped (inside `<title>` nothing else is special).
#[cfg(feature = "ssr")]
fn head_text(text: String) -> String {
    html_escape::encode_text(&text).into_owned()
}

#[cfg(not(feature = "ssr"))]
fn head_text(text: String) -> String {
    text
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// Clippy refuses `leptos_meta::Title` outside this module; this test
    /// does the same where clippy does not run (the test command).
    #[test]
    fn every_title_goes_through_document_title() {
        fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.len() > 20, "the sources were found");
        for path in found.iter().filter(|p| !p.ends_with("ui/head.rs")) {
            let source = std::fs::read_to_string(path).expect("a source file");
            let imports_title =
                source.lines().filter(|line| line.trim_start().starts_with("use leptos_meta")).any(|line| {
                    line.split(|c: char| !c.is_alphanumeric() && c != '_').any(|word| word == "Title")
                });
            assert!(
                !imports_title && !source.contains("leptos_meta::Title"),
                "{} sets a title without DocumentTitle",
                path.display()
            );
        }
    }

    #[test]
    fn markup_in_a_title_is_only_text() {
        let hostile = "</title><meta http-equiv=refresh content=0;//other.site/x>&amp;";
        let escaped = head_text(hostile.into());
        assert!(!escaped.contains('<') && !escaped.contains('>'), "{escaped}");
        assert_eq!(html_escape::decode_html_entities(&escaped), hostile);
    }
}
