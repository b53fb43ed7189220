//! RFC 8288 `Link` header parsing.

use reqwest::header::{HeaderMap, LINK};

/// One link of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target URI as written (may be relative).
    pub uri: String,
    /// Relation types, lower-cased (`rel="next last"` gives two).
    pub rels: Vec<String>,
    /// Other parameters (name lower-cased, value unquoted).
    pub params: Vec<(String, String)>,
}

/// Parses a `Link` header value: `<uri>; rel="next"; title="x", <uri2>; rel=last`.
///
/// Tolerant: commas and semicolons inside `<...>` and quoted strings are
/// handled, parameter names are case-insensitive, `rel` may hold several
/// space-separated relation types, and malformed entries are skipped.
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let chars: Vec<char> = value.chars().collect();
    let mut links = Vec::new();
    let mut i = 0;
    let n = chars.len();
    while i < n {
        // Find the next '<'.
        while i < n && chars[i] != '<' {
            i += 1;
        }
        if i >= n {
            break;
        }
        i += 1;
        let start = i;
        while i < n && chars[i] != '>' {
            i += 1;
        }
        if i >= n {
            break;
        }
        let uri: String = chars[start..i].iter().collect::<String>().trim().to_owned();
        i += 1;
        let mut rels = Vec::new();
        let mut params = Vec::new();
        // Parameters until ',' (outside quotes) or end.
        loop {
            while i < n && chars[i].is_whitespace() {
                i += 1;
            }
            if i >= n {
                break;
            }
            if chars[i] == ',' {
                i += 1;
                break;
            }
            if chars[i] != ';' {
                // Junk: skip to the next separator.
                while i < n && chars[i] != ';' && chars[i] != ',' {
                    i += 1;
                }
                continue;
            }
            i += 1;
            while i < n && chars[i].is_whitespace() {
                i += 1;
            }
            let name_start = i;
            while i < n && !matches!(chars[i], '=' | ';' | ',') && !chars[i].is_whitespace() {
                i += 1;
            }
            let name: String = chars[name_start..i].iter().collect::<String>().to_ascii_lowercase();
            while i < n && chars[i].is_whitespace() {
                i += 1;
            }
            let mut val = String::new();
            if i < n && chars[i] == '=' {
                i += 1;
                while i < n && chars[i].is_whitespace() {
                    i += 1;
                }
                if i < n && chars[i] == '"' {
                    i += 1;
                    while i < n && chars[i] != '"' {
                        if chars[i] == '\\' && i + 1 < n {
                            i += 1;
                        }
                        val.push(chars[i]);
                        i += 1;
                    }
                    i += 1; // closing quote
                } else {
                    while i < n && !matches!(chars[i], ';' | ',') {
                        val.push(chars[i]);
                        i += 1;
                    }
                    val = val.trim().to_owned();
                }
            }
            if name.is_empty() {
                continue;
            }
            if name == "rel" {
                // RFC 8288: only the first rel parameter counts.
                if rels.is_empty() {
                    rels = val.split_whitespace().map(|r| r.to_ascii_lowercase()).collect();
                }
            } else {
                params.push((name, val));
            }
        }
        links.push(Link { uri, rels, params });
    }
    links
}

/// The URI of the first link with `rel` (case-insensitive) across all `Link`
/// headers of a response.
pub fn find_link(headers: &HeaderMap, rel: &str) -> Option<String> {
    let rel = rel.to_ascii_lowercase();
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_link_header)
        .find(|l| l.rels.contains(&rel))
        .map(|l| l.uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn github_style() {
        let v = r#"<https://api.github.com/user/repos?page=3&per_page=100>; rel="next", <https://api.github.com/user/repos?page=50&per_page=100>; rel="last""#;
        let links = parse_link_header(v);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].uri, "https://api.github.com/user/repos?page=3&per_page=100");
        assert_eq!(links[0].rels, vec!["next"]);
        assert_eq!(links[1].rels, vec!["last"]);
    }

    #[test]
    fn unquoted_multiple_rels_and_params() {
        let v = r#"</a?x=1,2>; title="a, b; c"; REL=Next, </b>;rel="prev first" ; type=text/html"#;
        let links = parse_link_header(v);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].uri, "/a?x=1,2");
        assert_eq!(links[0].rels, vec!["next"]);
        assert_eq!(links[0].params, vec![("title".into(), "a, b; c".into())]);
        assert_eq!(links[1].rels, vec!["prev", "first"]);
        assert_eq!(links[1].params, vec![("type".into(), "text/html".into())]);
    }

    #[test]
    fn several_rels_include_next() {
        let v = r#"<https://x/p2>; rel="last next""#;
        let mut h = HeaderMap::new();
        h.append(LINK, HeaderValue::from_static(r#"<https://x/p0>; rel="prev""#));
        h.append(LINK, HeaderValue::from_str(v).unwrap());
        assert_eq!(find_link(&h, "next").as_deref(), Some("https://x/p2"));
        assert_eq!(find_link(&h, "NEXT").as_deref(), Some("https://x/p2"));
        assert_eq!(find_link(&h, "first"), None);
    }

    #[test]
    fn malformed_is_tolerated() {
        assert!(parse_link_header("").is_empty());
        assert!(parse_link_header("garbage").is_empty());
        assert_eq!(parse_link_header("<unterminated").len(), 0);
        let l = parse_link_header(r#"<x>; rel="next"#);
        assert_eq!(l[0].rels, vec!["next"]);
        let l = parse_link_header(r#"<x>; rel="a\"b""#);
        assert_eq!(l[0].rels, vec!["a\"b"]);
    }
}
