//! Writing HTML safely: every value that came from a request, a token, the database or
//! another service goes through [`escape`] before it is written into a page, so that text
//! such as a provider's name or a note can never become markup. Pages are plain strings
//! built with `format!`; the rule is simply that no `{}` in a template takes anything but
//! an escaped value or a fragment built by this module's callers from escaped values.

use std::fmt::Write as _;

/// `text` with the five characters that can end a text node or an attribute value written
/// as entities. Safe in element content and in double- or single-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Who the page is shown to, for the header: what they are signed in as, and the CSRF
/// token the sign-out form carries.
#[derive(Debug, Clone)]
pub struct Viewer<'a> {
    pub signed_in_as: &'a str,
    pub csrf: &'a str,
}

/// A whole page: a skip link, a header with the service name and (when signed in) the
/// sign-out button, and `main`, which holds `body` and starts with the page's one `h1`.
/// `title` is plain text; `body` is HTML built from escaped values.
pub fn page(title: &str, viewer: Option<&Viewer<'_>>, body: &str) -> String {
    let mut header_end = String::new();
    if let Some(viewer) = viewer {
        let _ = write!(
            header_end,
            "<p class=\"who\">Signed in as {who}</p>\
             <form method=\"post\" action=\"/portal/sign-out\" class=\"sign-out\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Sign out</button></form>",
            who = escape(viewer.signed_in_as),
            csrf = escape(viewer.csrf),
        );
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - Self-directed Support</title>\n\
         <link rel=\"stylesheet\" href=\"/portal/style.css\">\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to main content</a>\n\
         <header><p class=\"service\">Self-directed Support</p>{header_end}</header>\n\
         <main id=\"main\" tabindex=\"-1\">\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_entities_and_plain_text_is_unchanged() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("Deeside Art Studio £5"), "Deeside Art Studio £5");
    }

    #[test]
    fn a_page_escapes_its_title_and_viewer_and_has_one_main_landmark() {
        let viewer = Viewer {
            signed_in_as: "<b>provider</b>",
            csrf: "a\"b",
        };
        let html = page("Tom & Jerry", Some(&viewer), "<p>body</p>");
        assert!(html.contains("<h1>Tom &amp; Jerry</h1>"), "{html}");
        assert!(html.contains("&lt;b&gt;provider&lt;/b&gt;"), "{html}");
        assert!(html.contains("value=\"a&quot;b\""), "{html}");
        assert_eq!(html.matches("<main").count(), 1);
        assert!(html.contains("href=\"#main\""));
    }
}
