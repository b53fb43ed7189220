//! Small shared helpers: query/form decoding, JSON responses, cursors.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Decodes an `application/x-www-form-urlencoded` string (also used for URL
/// query strings) into key/value pairs, in order.
pub(crate) fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query component (RFC 3986 unreserved characters kept).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The parsed query string of a request.
pub(crate) struct Query(pub Vec<(String, String)>);

impl Query {
    pub(crate) fn from_uri(uri: &axum::http::Uri) -> Query {
        Query(uri.query().map(parse_form).unwrap_or_default())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Parses an unsigned integer parameter; `Ok(None)` when absent or empty.
    pub(crate) fn num(&self, key: &str) -> Result<Option<u64>, Response> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    &format!("invalid value for query parameter '{key}': expected a non-negative integer"),
                )
            }),
        }
    }
}

/// A JSON response from pre-serialized bytes.
pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A JSON response from a serde value.
pub(crate) fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(status, body),
        Err(_) => json_bytes(StatusCode::INTERNAL_SERVER_ERROR, br#"{"error":"serialization failed"}"#.to_vec()),
    }
}

/// `{"error": msg}` with the given status.
pub(crate) fn error(status: StatusCode, msg: &str) -> Response {
    json(status, &serde_json::json!({ "error": msg }))
}

/// 401 `{"error": msg}` with a `WWW-Authenticate` challenge.
pub(crate) fn unauthorized(challenge: &str, msg: &str) -> Response {
    let mut resp = error(StatusCode::UNAUTHORIZED, msg);
    if let Ok(v) = HeaderValue::from_str(challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Extracts `(user, password)` from an `Authorization: Basic ...` header.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// Extracts the token from an `Authorization: Bearer ...` header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(rest.trim())
}

/// Opaque cursor: URL-safe base64 (no padding) of `"{prefix}:{offset}"`.
pub(crate) fn encode_cursor(prefix: &str, offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{prefix}:{offset}"))
}

/// Inverse of [`encode_cursor`]; `None` when the cursor is not valid.
pub(crate) fn decode_cursor(prefix: &str, cursor: &str) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (p, n) = raw.split_once(':')?;
    if p != prefix {
        return None;
    }
    n.parse().ok()
}

/// Clamps a requested page size: absent → `default`; result in `1..=max`.
pub(crate) fn clamp_size(requested: Option<u64>, default: u64, max: u64) -> u64 {
    let max = max.max(1);
    requested.unwrap_or(default).clamp(1, max)
}

/// Writes `s` as a JSON string literal.
pub(crate) fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    // serde_json escaping never fails when writing to a Vec.
    let _ = serde_json::to_writer(&mut *buf, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_roundtrip() {
        let f = parse_form("a=1&b=x%20y+z&c&d=%3D%26");
        assert_eq!(
            f,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into()),
                ("d".into(), "=&".into()),
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode(&percent_encode("a b/c=")), "a b/c=");
    }

    #[test]
    fn cursor_roundtrip() {
        let c = encode_cursor("o", 150);
        assert_eq!(decode_cursor("o", &c), Some(150));
        assert_eq!(decode_cursor("x", &c), None);
        assert_eq!(decode_cursor("o", "!!"), None);
    }
}
