//! Searching messages: what a query means, and what a result shows.

use super::{PublicProfile, RoomId, Seq};
use crate::error::Problem;
use serde::{Deserialize, Serialize};

/// Most words a query is made of, and the longest word taken.
pub const MAX_SEARCH_WORDS: usize = 8;
pub const MAX_SEARCH_WORD: usize = 64;
/// Results per page.
pub const SEARCH_PAGE: usize = 20;

/// The words of a search: letters and digits, lowercased; every word must
/// be found, as a whole word.
pub fn search_words(query: &str) -> Result<Vec<String>, Problem> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(MAX_SEARCH_WORDS)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Err(Problem::Required);
    }
    if words.iter().any(|word| word.chars().count() > MAX_SEARCH_WORD) {
        return Err(Problem::TooLong { max: MAX_SEARCH_WORD });
    }
    Ok(words)
}

/// One message found, with a snippet of its text around the words, as
/// HTML: escaped text with the words in `<mark>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub room: RoomId,
    /// The room's name (empty for a direct conversation).
    pub room_name: String,
    pub seq: Seq,
    pub author: PublicProfile,
    pub sent_at: i64,
    pub snippet: String,
}

/// A page of results, newest first, and where the next one starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next: Option<SearchCursor>,
}

/// Where a page of results ends: results come newest first, in the order
/// their messages were stored; the next page has what comes after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchCursor {
    pub sent_at: i64,
    pub room: RoomId,
    pub seq: Seq,
}

impl SearchCursor {
    pub fn after(hit: &SearchHit) -> Self {
        Self { sent_at: hit.sent_at, room: hit.room, seq: hit.seq }
    }
}

/// A snippet as the engines return it, the words between `\u{2}` and
/// `\u{3}` (characters no message contains), as safe HTML.
pub fn snippet_html(raw: &str) -> String {
    let mut html = String::with_capacity(raw.len() + 16);
    for part in raw.split_inclusive(['\u{2}', '\u{3}']) {
        let (text, mark) = match part.char_indices().last() {
            Some((at, '\u{2}')) => (&part[..at], "<mark>"),
            Some((at, '\u{3}')) => (&part[..at], "</mark>"),
            _ => (part, ""),
        };
        html.push_str(&html_escape_text(text));
        html.push_str(mark);
    }
    html
}

fn html_escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_words() {
        assert_eq!(search_words("  Élève, l'école!"), Ok(vec!["élève".into(), "l".into(), "école".into()]));
        assert_eq!(search_words(" -- "), Err(Problem::Required));
        assert_eq!(search_words(&"a".repeat(65)), Err(Problem::TooLong { max: 64 }));
        assert_eq!(search_words("a b c d e f g h i j").map(|w| w.len()), Ok(MAX_SEARCH_WORDS));
    }

    #[test]
    fn snippets_are_escaped_with_the_words_marked() {
        assert_eq!(snippet_html("a <b> \u{2}word\u{3} & c"), "a &lt;b&gt; <mark>word</mark> &amp; c");
        assert_eq!(snippet_html("plain"), "plain");
    }
}
