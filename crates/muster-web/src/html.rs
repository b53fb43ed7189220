//! HTML building blocks: escaping, the shared layout, badges, YAML highlighting, a side-by-side diff.
//!
//! Every value that comes from the store or the request goes through [`esc`] (text and attribute values
//! alike) or [`pct`] (path segments and query values) before it reaches a page.

use std::fmt::Write as _;

/// Escape text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a path segment or query value (everything but unreserved characters).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `Option<String>` as escaped text, or an em dash.
pub fn opt(s: Option<&str>) -> String {
    match s {
        Some(v) if !v.is_empty() => esc(v),
        _ => "<span class=\"muted\">—</span>".into(),
    }
}

/// The navigation sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Connectors,
    Inventory,
    Nhi,
    Syncs,
    Audit,
    None,
}

/// What the layout needs besides the body.
pub struct Layout<'a> {
    pub title: &'a str,
    pub nav: Nav,
    /// A one-time message: (ok, text).
    pub flash: Option<(bool, String)>,
    /// Show a log-out button (a token is configured and the user is logged in).
    pub logout_csrf: Option<&'a str>,
}

/// The whole page: head, navigation, flash message, body.
pub fn page(l: &Layout<'_>, body: &str) -> String {
    let mut h = String::with_capacity(body.len() + 2048);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Muster</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/style.css\">\
         <script src=\"/assets/app.js\" defer></script></head><body>\
         <header class=\"top\"><a class=\"brand\" href=\"/connectors\">Muster</a><nav>",
        esc(l.title)
    );
    for (nav, href, label) in [
        (Nav::Connectors, "/connectors", "Connectors"),
        (Nav::Inventory, "/inventory", "Inventory"),
        (Nav::Nhi, "/nhi", "Non-human identities"),
        (Nav::Syncs, "/syncs", "Syncs"),
        (Nav::Audit, "/audit", "Audit"),
    ] {
        let cls = if nav == l.nav { " class=\"active\" aria-current=\"page\"" } else { "" };
        let _ = write!(h, "<a href=\"{href}\"{cls}>{label}</a>");
    }
    h.push_str("</nav>");
    if let Some(csrf) = l.logout_csrf {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"/logout\" class=\"logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" class=\"link\">Log out</button></form>",
            esc(csrf)
        );
    }
    h.push_str("</header><main>");
    if let Some((ok, msg)) = &l.flash {
        let _ = write!(
            h,
            "<div class=\"flash {}\" role=\"status\">{}</div>",
            if *ok { "ok" } else { "err" },
            esc(msg).replace('\n', "<br>")
        );
    }
    h.push_str(body);
    h.push_str("</main><footer>Muster · served from the local store · no external assets</footer></body></html>\n");
    h
}

/// A coloured label for a state or status word.
pub fn badge(word: &str) -> String {
    let class = match word {
        "production" | "completed" | "pass" | "enabled" | "approve" | "passed" | "intact" => "good",
        "approved" | "tested" | "running" => "info",
        "held" | "warn" | "disabled" | "abandoned" => "warn",
        "failed" | "fail" | "reject" | "deleted" | "tampered" => "bad",
        _ => "neutral",
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(word))
}

/// YAML with light highlighting: comments (provenance comments — `from …` — stand out), keys, quoted
/// strings and `${ENV}` references. Line numbers come from CSS.
pub fn yaml(src: &str) -> String {
    let mut h = String::from("<pre class=\"code yaml\"><code>");
    for line in src.lines() {
        h.push_str("<span class=\"ln\">");
        h.push_str(&yaml_line(line));
        h.push_str("</span>");
    }
    h.push_str("</code></pre>");
    h
}

/// Where a comment starts (a `#` outside quotes, at the start or after a space).
fn comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && (prev == ' ' || prev == '\t' || i == 0) => return Some(i),
            _ => {}
        }
        prev = c;
    }
    None
}

fn yaml_line(line: &str) -> String {
    let (code, comment) = match comment_start(line) {
        Some(i) => (&line[..i], Some(&line[i..])),
        None => (line, None),
    };
    let mut h = String::new();
    let trimmed = code.trim_start();
    let indent = &code[..code.len() - trimmed.len()];
    h.push_str(indent);
    let (dash, rest) = match trimmed.strip_prefix("- ") {
        Some(r) => ("- ", r),
        None => ("", trimmed),
    };
    h.push_str(dash);
    let key_end = rest
        .find(": ")
        .or_else(|| rest.strip_suffix(':').map(|k| k.len()))
        .filter(|&i| !rest[..i].contains(['{', '"', '\'', '[']));
    match key_end {
        Some(i) => {
            let _ = write!(h, "<span class=\"k\">{}</span>", esc(&rest[..i]));
            h.push_str(&value(&rest[i..]));
        }
        None => h.push_str(&value(rest)),
    }
    if let Some(c) = comment {
        let class = if c.trim_start_matches('#').trim_start().starts_with("from ") { "c prov" } else { "c" };
        let _ = write!(h, "<span class=\"{class}\">{}</span>", esc(c));
    }
    h
}

/// A value: quoted strings and `${VAR}` references highlighted.
fn value(s: &str) -> String {
    let mut h = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let next = rest.find(['"', '\'', '$']);
        let Some(i) = next else {
            h.push_str(&esc(rest));
            break;
        };
        h.push_str(&esc(&rest[..i]));
        let tail = &rest[i..];
        if tail.starts_with("${") {
            let end = tail.find('}').map(|e| e + 1).unwrap_or(tail.len());
            let _ = write!(h, "<span class=\"env\">{}</span>", esc(&tail[..end]));
            rest = &tail[end..];
        } else if let Some(q) = tail.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let end = tail[1..].find(q).map(|e| e + 2).unwrap_or(tail.len());
            let _ = write!(h, "<span class=\"s\">{}</span>", value_inner(&tail[..end]));
            rest = &tail[end..];
        } else {
            h.push('$');
            rest = &tail[1..];
        }
    }
    h
}

fn value_inner(quoted: &str) -> String {
    // ${VAR} inside a quoted string keeps its own colour.
    let mut h = String::new();
    let mut rest = quoted;
    while let Some(i) = rest.find("${") {
        h.push_str(&esc(&rest[..i]));
        let end = rest[i..].find('}').map(|e| i + e + 1).unwrap_or(rest.len());
        let _ = write!(h, "<span class=\"env\">{}</span>", esc(&rest[i..end]));
        rest = &rest[end..];
    }
    h.push_str(&esc(rest));
    h
}

/// Two texts side by side, line by line (changes with three lines of context; unchanged runs folded).
pub fn side_by_side(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_lines(old, new);
    let mut h = String::new();
    let _ = write!(
        h,
        "<table class=\"sbs\"><colgroup><col class=\"nc\"><col><col class=\"nc\"><col></colgroup>\
         <thead><tr><th colspan=\"2\">{}</th><th colspan=\"2\">{}</th></tr></thead><tbody>",
        esc(old_label),
        esc(new_label)
    );
    let groups = diff.grouped_ops(3);
    if groups.is_empty() {
        h.push_str("<tr><td colspan=\"4\" class=\"muted\">The two versions have the same text.</td></tr>");
    }
    for (gi, group) in groups.iter().enumerate() {
        if gi > 0 {
            h.push_str("<tr class=\"fold\"><td colspan=\"4\">⋯</td></tr>");
        }
        for op in group {
            let mut dels: Vec<(usize, String)> = Vec::new();
            let mut adds: Vec<(usize, String)> = Vec::new();
            let flush = |h: &mut String, dels: &mut Vec<(usize, String)>, adds: &mut Vec<(usize, String)>| {
                for i in 0..dels.len().max(adds.len()) {
                    h.push_str("<tr>");
                    match dels.get(i) {
                        Some((n, t)) => {
                            let _ = write!(h, "<td class=\"n\">{n}</td><td class=\"del\">{}</td>", esc(t));
                        }
                        None => h.push_str("<td class=\"n\"></td><td class=\"empty\"></td>"),
                    }
                    match adds.get(i) {
                        Some((n, t)) => {
                            let _ = write!(h, "<td class=\"n\">{n}</td><td class=\"add\">{}</td>", esc(t));
                        }
                        None => h.push_str("<td class=\"n\"></td><td class=\"empty\"></td>"),
                    }
                    h.push_str("</tr>");
                }
                dels.clear();
                adds.clear();
            };
            for change in diff.iter_changes(op) {
                let text = change.value().trim_end_matches(['\n', '\r']).to_string();
                match change.tag() {
                    ChangeTag::Delete => dels.push((change.old_index().map(|i| i + 1).unwrap_or(0), text)),
                    ChangeTag::Insert => adds.push((change.new_index().map(|i| i + 1).unwrap_or(0), text)),
                    ChangeTag::Equal => {
                        flush(&mut h, &mut dels, &mut adds);
                        let (o, n) = (
                            change.old_index().map(|i| i + 1).unwrap_or(0),
                            change.new_index().map(|i| i + 1).unwrap_or(0),
                        );
                        let t = esc(&text);
                        let _ = write!(
                            h,
                            "<tr><td class=\"n\">{o}</td><td>{t}</td><td class=\"n\">{n}</td><td>{t}</td></tr>"
                        );
                    }
                }
            }
            flush(&mut h, &mut dels, &mut adds);
        }
    }
    h.push_str("</tbody></table>");
    h
}

/// A pager: "page N of M" with previous/next links built by `href(page)`.
pub fn pager(page: u64, pages: u64, total: u64, noun: &str, href: impl Fn(u64) -> String) -> String {
    let mut h = String::from("<nav class=\"pager\" aria-label=\"pages\">");
    if page > 1 {
        let _ = write!(h, "<a rel=\"prev\" href=\"{}\">← previous</a>", esc(&href(page - 1)));
    }
    let _ = write!(h, "<span>page {page} of {} · {total} {noun}</span>", pages.max(1));
    if page < pages {
        let _ = write!(h, "<a rel=\"next\" href=\"{}\">next →</a>", esc(&href(page + 1)));
    }
    h.push_str("</nav>");
    h
}

/// `<option>`s with one selected.
pub fn options(values: &[(&str, &str)], selected: Option<&str>) -> String {
    let mut h = String::new();
    for (v, label) in values {
        let sel = if Some(*v) == selected { " selected" } else { "" };
        let _ = write!(h, "<option value=\"{}\"{sel}>{}</option>", esc(v), esc(label));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(esc("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn pct_encodes_reserved_characters() {
        assert_eq!(pct("cn=a b/c?d"), "cn%3Da%20b%2Fc%3Fd");
        assert_eq!(pct("Acme Directory"), "Acme%20Directory");
    }

    #[test]
    fn yaml_highlights_keys_comments_and_env() {
        let h = yaml_line("    base_url: ${ACME_URL}   # from GET /users — confidence: high");
        assert!(h.contains("<span class=\"k\">base_url</span>"), "{h}");
        assert!(h.contains("<span class=\"env\">${ACME_URL}</span>"), "{h}");
        assert!(h.contains("<span class=\"c prov\"># from GET /users"), "{h}");
        let h = yaml_line("status: \"item.active ? 'a' : 'b'\"  # quoted # is not a comment");
        assert!(h.contains("<span class=\"s\">&quot;item.active ? &#39;a&#39; : &#39;b&#39;&quot;</span>"), "{h}");
        assert!(h.contains("<span class=\"c\"># quoted"), "{h}");
        let h = yaml_line("- <script>: x");
        assert!(h.contains("&lt;script&gt;") && !h.contains("<script>"), "{h}");
    }

    #[test]
    fn side_by_side_pairs_changes() {
        let h = side_by_side("a\nb\nc\n", "a\nB\nc\nd\n", "old", "new");
        assert!(h.contains("<td class=\"del\">b</td><td class=\"n\">2</td><td class=\"add\">B</td>"), "{h}");
        assert!(h.contains("<td class=\"add\">d</td>"), "{h}");
        assert!(side_by_side("x\n", "x\n", "a", "b").contains("same text"));
    }
}
