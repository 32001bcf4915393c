//! Finds the web links in a message, so that the UI can make them clickable
//! while showing everything else as plain text.

/// A piece of a message: text to show as is, or a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits `text` into text and `http(s)://` links. Punctuation that usually
/// ends a sentence (`.`, `,`, `)`, …) is left out of a link's end.
pub fn linkify(text: &str) -> Vec<Segment<'_>> {
    // ASCII lowering keeps every byte offset, so positions found in `lower`
    // are positions in `text`.
    let lower = text.to_ascii_lowercase();
    let mut segments = Vec::new();
    let mut text_from = 0;
    let mut search_from = 0;
    while let Some(found) = find_scheme(&lower[search_from..]) {
        let start = search_from + found;
        let scheme_len = if lower[start..].starts_with("https://") { 8 } else { 7 };
        let tail = &text[start..];
        let end =
            tail.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')).unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'']);
        if link.len() <= scheme_len {
            search_from = start + scheme_len;
            continue;
        }
        if start > text_from {
            segments.push(Segment::Text(&text[text_from..start]));
        }
        segments.push(Segment::Link(link));
        text_from = start + link.len();
        search_from = text_from;
    }
    if text_from < text.len() {
        segments.push(Segment::Text(&text[text_from..]));
    }
    segments
}

fn find_scheme(lower: &str) -> Option<usize> {
    [lower.find("https://"), lower.find("http://")].into_iter().flatten().min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::*;

    #[test]
    fn links_are_found_and_the_rest_is_text() {
        assert_eq!(linkify("plain"), vec![Text("plain")]);
        assert_eq!(
            linkify("see https://example.com/a?b=1. ok"),
            vec![Text("see "), Link("https://example.com/a?b=1"), Text(". ok")]
        );
        assert_eq!(linkify("(http://x.fr)"), vec![Text("("), Link("http://x.fr"), Text(")")]);
        assert_eq!(linkify("HTTPS://A.B"), vec![Link("HTTPS://A.B")]);
        assert_eq!(linkify("http:// nothing"), vec![Text("http:// nothing")]);
        assert_eq!(linkify("é https://é.fr"), vec![Text("é "), Link("https://é.fr")]);
        assert_eq!(linkify("<img src=x onerror=alert(1)>"), vec![Text("<img src=x onerror=alert(1)>")]);
        assert_eq!(linkify("javascript:alert(1)"), vec![Text("javascript:alert(1)")]);
    }
}
