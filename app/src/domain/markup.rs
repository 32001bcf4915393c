//! What a message's text means on screen: a safe subset of Markdown (bold,
//! italic, strikethrough, inline code, code blocks, block quotes, lists,
//! links), rendered to HTML once, on the server, when the message is
//! committed; the browser shows the result and carries no Markdown parser.
//!
//! pulldown-cmark parses (CommonMark, plus strikethrough); raw HTML in a
//! message is turned into text before rendering, and ammonia then keeps
//! only the subset's tags, links to `http`, `https` and `mailto` with
//! `rel="noopener noreferrer nofollow"`, and no attribute that could run
//! script or load anything. Images come only through attachments: an
//! image's Markdown shows as its text. A mention of a member of the room
//! becomes `<span class="mention">@name</span>`.

use super::{linkify, mention_at, Segment};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use std::collections::HashSet;
use std::sync::LazyLock;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from([
            "p",
            "br",
            "strong",
            "em",
            "del",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
            "a",
            "span",
        ]))
        .allowed_classes([("span", HashSet::from(["mention"]))].into())
        .tag_attributes([("a", HashSet::from(["href"])), ("ol", HashSet::from(["start"]))].into())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank");
    builder
});

/// `body` as safe HTML, with the usernames of `mentions` (their keys, see
/// [`super::mentioned`]) marked.
pub fn render(body: &str, mentions: &[String]) -> String {
    if is_plain(body) {
        return format!("<p>{body}</p>\n");
    }
    let mut in_code_block = false;
    let events = Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH).flat_map(|event| {
        let events: Vec<Event<'_>> = match event {
            // Raw HTML shows as typed, a block of it as a paragraph.
            Event::Html(html) | Event::InlineHtml(html) => vec![Event::Text(html)],
            Event::Start(Tag::HtmlBlock) => vec![Event::Start(Tag::Paragraph)],
            Event::End(TagEnd::HtmlBlock) => vec![Event::End(TagEnd::Paragraph)],
            // A chat line break is a line break.
            Event::SoftBreak => vec![Event::HardBreak],
            // An image's text, not the image.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => vec![],
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code_block = true;
                vec![Event::Start(Tag::CodeBlock(kind))]
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                vec![Event::End(TagEnd::CodeBlock)]
            }
            // Bare web addresses become links, as people expect in a chat.
            Event::Text(text) if !in_code_block => links(text, mentions),
            other => vec![other],
        };
        events
    });
    let mut html = String::with_capacity(body.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events);
    SANITIZER.clean(&html).to_string()
}

/// Whether `body` is one line of words and plain punctuation that Markdown
/// leaves as it is and HTML needs no escape for: its rendering is then
/// known without the parser and the sanitizer (a test checks both agree),
/// which the commonest messages do not need.
fn is_plain(body: &str) -> bool {
    !body.starts_with(|c: char| c.is_ascii_digit())
        && !body.contains("://")
        && body.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | ',' | '.' | '?' | ';' | ':'))
}

/// A text event with its `http(s)://` addresses as links and its mentions
/// marked.
fn links<'t>(text: CowStr<'t>, mentions: &[String]) -> Vec<Event<'t>> {
    let segments = linkify(&text);
    if mentions.is_empty() && !segments.iter().any(|s| matches!(s, Segment::Link(_))) {
        return vec![Event::Text(text)];
    }
    let mut events = Vec::with_capacity(segments.len() * 3);
    for segment in segments {
        match segment {
            Segment::Text(text) => mark_mentions(text, mentions, &mut events),
            Segment::Link(link) => {
                let url = CowStr::from(link.to_owned());
                events.push(Event::Start(Tag::Link {
                    link_type: pulldown_cmark::LinkType::Autolink,
                    dest_url: url.clone(),
                    title: CowStr::Borrowed(""),
                    id: CowStr::Borrowed(""),
                }));
                events.push(Event::Text(url));
                events.push(Event::End(TagEnd::Link));
            }
        }
    }
    events
}

/// `text` as events, each `@name` of `mentions` in a span.
fn mark_mentions(text: &str, mentions: &[String], events: &mut Vec<Event<'_>>) {
    let mut from = 0;
    for (at, _) in text.match_indices('@') {
        if at < from {
            continue;
        }
        let Some(name) = mention_at(text, at).filter(|name| mentions.contains(&name.to_ascii_lowercase()))
        else {
            continue;
        };
        if at > from {
            events.push(Event::Text(CowStr::from(text[from..at].to_owned())));
        }
        let escaped = html_escape::encode_text(name);
        events.push(Event::InlineHtml(CowStr::from(format!("<span class=\"mention\">@{escaped}</span>"))));
        from = at + 1 + name.len();
    }
    if from < text.len() {
        events.push(Event::Text(CowStr::from(text[from..].to_owned())));
    }
}

#[cfg(test)]
mod tests {
    use super::render;
    use pulldown_cmark::Parser;

    fn render_plain(body: &str) -> String {
        render(body, &[])
    }

    #[test]
    fn the_subset_renders() {
        assert_eq!(
            render_plain("**bold** _it_ ~~gone~~ `code`"),
            "<p><strong>bold</strong> <em>it</em> <del>gone</del> <code>code</code></p>\n"
        );
        assert_eq!(render_plain("a\nb"), "<p>a<br>\nb</p>\n");
        assert_eq!(render_plain("> quoted"), "<blockquote>\n<p>quoted</p>\n</blockquote>\n");
        assert_eq!(render_plain("- one\n- two"), "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n");
        assert_eq!(render_plain("```\nlet x = 1;\n```"), "<pre><code>let x = 1;\n</code></pre>\n");
        assert_eq!(render_plain("# Title"), "Title\n");
    }

    #[test]
    fn links_are_safe_and_bare_addresses_are_links() {
        let rel = r#"target="_blank" rel="noopener noreferrer nofollow""#;
        assert_eq!(
            render_plain("[x](https://a.example/p)"),
            format!("<p><a href=\"https://a.example/p\" {rel}>x</a></p>\n")
        );
        assert_eq!(
            render_plain("see https://a.example."),
            format!("<p>see <a href=\"https://a.example\" {rel}>https://a.example</a>.</p>\n")
        );
        assert_eq!(render_plain("[x](javascript:alert(1))"), "<p><a ".to_owned() + rel + ">x</a></p>\n");
        assert_eq!(render_plain("`https://a.example`"), "<p><code>https://a.example</code></p>\n");
    }

    #[test]
    fn plain_lines_render_as_the_parser_would() {
        for body in ["hello world", "Ça va, Élodie? Oui; très bien.", "t:1764691200000", "a  b", "x"] {
            assert_eq!(
                render(body, &[]),
                super::SANITIZER
                    .clean(&{
                        let mut html = String::new();
                        pulldown_cmark::html::push_html(&mut html, Parser::new(body));
                        html
                    })
                    .to_string(),
                "{body:?}"
            );
        }
        assert!(super::is_plain("t:1764691200000"));
        for marked in ["1. one", "a_b", "@bob", "see https://a.example", "**b**", "a\nb", "<i>"] {
            assert!(!super::is_plain(marked), "{marked:?}");
        }
    }

    #[test]
    fn mentions_of_members_are_marked() {
        let members = ["bob".to_owned()];
        assert_eq!(
            render("hi @Bob. and @carol", &members),
            "<p>hi <span class=\"mention\">@Bob</span>. and @carol</p>\n"
        );
        assert_eq!(render("`@bob` mail@bob", &members), "<p><code>@bob</code> mail@bob</p>\n");
    }

    #[test]
    fn nothing_runs_or_loads() {
        assert_eq!(
            render_plain("<script>alert(1)</script>"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
        );
        assert_eq!(
            render_plain("<img src=x onerror=alert(1)>"),
            "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"
        );
        assert_eq!(render_plain("![cat](https://a.example/cat.png)"), "<p>cat</p>\n");
        assert_eq!(
            render_plain("<a href=\"x\" onclick=\"y\">z</a>"),
            "<p>&lt;a href=\"x\" onclick=\"y\"&gt;z&lt;/a&gt;</p>\n"
        );
    }
}
