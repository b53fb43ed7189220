//! Pagination: [`Pagination`] styles, the [`Pager`] and its [`Page`]s.

use std::collections::HashSet;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::client::{HttpClient, Request, parse_json};
use crate::error::{HttpError, Location};
use crate::json::{as_u64, describe_keys, lookup};
use crate::link::find_link;

/// Default items path for SCIM list responses.
const SCIM_ITEMS: &str = "Resources";

/// How a collection is paged, and when to stop.
///
/// In every style the walk also stops with an error on a loop (the same
/// cursor twice, the same next URL twice, or an identical page body twice in a
/// row → [`HttpError::LoopDetected`]) and after `max_pages` pages when more
/// remain ([`HttpError::TooManyPages`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Pagination {
    /// One request, one page.
    None,
    /// `?offset=N&limit=L`. The offset advances by the number of items
    /// received. Stops on an empty page; when a total is known
    /// (`total_path` or `X-Total-Count`) when offset >= total, otherwise on a
    /// short page (fewer items than `limit`).
    Offset {
        /// Offset parameter name.
        offset_param: String,
        /// Limit parameter name.
        limit_param: String,
        /// Page size requested.
        limit: u64,
        /// First offset (usually 0).
        start: u64,
        /// Dotted path of the total item count in the body.
        total_path: Option<String>,
    },
    /// `?page=N&size=S`. Stops on an empty page, when the pages fetched reach
    /// `total_pages`, when the items seen reach the total, or — with neither
    /// known — on a short page (fewer items than `size`, or than the first
    /// page when `size` is not set).
    Page {
        /// Page number parameter name.
        page_param: String,
        /// Page size parameter name (sent only with `size`).
        size_param: Option<String>,
        /// Page size requested.
        size: Option<u64>,
        /// First page number (0 or 1).
        start: u64,
        /// Dotted path of the total item count in the body.
        total_path: Option<String>,
        /// Dotted path of the total page count in the body.
        total_pages_path: Option<String>,
    },
    /// An opaque cursor from the body (`cursor_path`) or a response header
    /// (`cursor_header`), sent back as `param`. Stops when the cursor is
    /// null, absent or empty.
    Cursor {
        /// Query parameter carrying the cursor.
        param: String,
        /// Page size parameter name (sent only with `size`).
        size_param: Option<String>,
        /// Page size requested.
        size: Option<u64>,
        /// Dotted path of the next cursor in the body.
        cursor_path: Option<String>,
        /// Response header carrying the next cursor.
        cursor_header: Option<String>,
    },
    /// The body holds the next page's URL (absolute, or relative to the
    /// current page's URL). Stops when it is null, absent or empty.
    NextLink {
        /// Dotted path of the next URL in the body.
        path: String,
    },
    /// RFC 8288 `Link: <...>; rel="next"`. Stops when there is no next link.
    LinkHeader {
        /// Page size parameter name (first request only; next links carry it).
        size_param: Option<String>,
        /// Page size requested.
        size: Option<u64>,
    },
    /// SCIM 2.0: `startIndex` (1-based) and `count`; items default to
    /// `Resources`. Stops on an empty page, when the next startIndex exceeds
    /// `totalResults`, or — without `totalResults` — on a short page.
    Scim {
        /// Items per page requested.
        count: u64,
    },
}

/// One page of a collection.
#[derive(Debug, Clone)]
pub struct Page {
    /// 1-based page number within this walk.
    pub number: u64,
    /// HTTP status (always 2xx).
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Parsed body.
    pub body: Value,
    /// Number of items on this page.
    pub item_count: usize,
    /// Redacted URL of the page.
    pub url: String,
    /// Total items in the collection, from `total_path`, `totalResults`
    /// (SCIM) or the `X-Total-Count` header, when present.
    pub total: Option<u64>,
    items_path: Option<String>,
}

impl Page {
    /// The items of this page (empty when the items are null or absent).
    pub fn items(&self) -> &[Value] {
        let v = match self.items_path.as_deref() {
            None => Some(&self.body),
            Some(p) => lookup(&self.body, p),
        };
        match v {
            Some(Value::Array(a)) => a,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone)]
enum Next {
    First,
    Offset(u64),
    Page(u64),
    Cursor(String),
    Url(Url),
    Scim(u64),
    Done,
}

/// Walks the pages of a collection; get one from [`HttpClient::paginate`].
pub struct Pager {
    client: HttpClient,
    req: Request,
    pagination: Pagination,
    items_path: Option<String>,
    label: String,
    number: u64,
    next: Next,
    items_seen: u64,
    first_count: Option<usize>,
    seen_cursors: HashSet<String>,
    seen_urls: HashSet<String>,
    prev_body: Option<Bytes>,
}

impl std::fmt::Debug for Pager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("label", &self.label)
            .field("pagination", &self.pagination)
            .field("pages_fetched", &self.number)
            .field("done", &matches!(self.next, Next::Done))
            .finish_non_exhaustive()
    }
}

impl Pager {
    pub(crate) fn new(
        client: HttpClient,
        req: Request,
        pagination: Pagination,
        items_path: Option<String>,
        label: String,
    ) -> Self {
        let items_path = match (&pagination, items_path) {
            (Pagination::Scim { .. }, None) => Some(SCIM_ITEMS.to_owned()),
            (_, p) => p,
        };
        Pager {
            client,
            req,
            pagination,
            items_path,
            label,
            number: 0,
            next: Next::First,
            items_seen: 0,
            first_count: None,
            seen_cursors: HashSet::new(),
            seen_urls: HashSet::new(),
            prev_body: None,
        }
    }

    /// The label used in errors.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.number
    }

    /// Fetches the next page; `Ok(None)` when the collection is exhausted.
    /// After an error the pager is finished.
    pub async fn next_page(&mut self) -> Result<Option<Page>, HttpError> {
        let result = self.fetch_next().await;
        if result.is_err() {
            self.next = Next::Done;
        }
        result
    }

    /// Fetches all remaining pages and returns their items.
    pub async fn collect_items(mut self) -> Result<Vec<Value>, HttpError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page.items().iter().cloned());
        }
        Ok(all)
    }

    fn request_for(&self, next: &Next) -> Request {
        let mut req = self.req.clone();
        match (&self.pagination, next) {
            (_, Next::Url(u)) => {
                req.path = u.to_string();
                req.query.clear();
            }
            (Pagination::Offset { offset_param, limit_param, limit, start, .. }, n) => {
                let off = match n {
                    Next::Offset(o) => *o,
                    _ => *start,
                };
                req.set_query(offset_param, off.to_string());
                req.set_query(limit_param, limit.to_string());
            }
            (Pagination::Page { page_param, size_param, size, start, .. }, n) => {
                let p = match n {
                    Next::Page(p) => *p,
                    _ => *start,
                };
                req.set_query(page_param, p.to_string());
                if let (Some(sp), Some(s)) = (size_param, size) {
                    req.set_query(sp, s.to_string());
                }
            }
            (Pagination::Cursor { param, size_param, size, .. }, n) => {
                if let (Some(sp), Some(s)) = (size_param, size) {
                    req.set_query(sp, s.to_string());
                }
                if let Next::Cursor(c) = n {
                    req.set_query(param, c.clone());
                }
            }
            (Pagination::LinkHeader { size_param, size }, _) => {
                if let (Some(sp), Some(s)) = (size_param, size) {
                    req.set_query(sp, s.to_string());
                }
            }
            (Pagination::Scim { count }, n) => {
                let s = match n {
                    Next::Scim(s) => *s,
                    _ => 1,
                };
                req.set_query("startIndex", s.to_string());
                req.set_query("count", count.to_string());
            }
            (Pagination::None | Pagination::NextLink { .. }, _) => {}
        }
        req
    }

    fn redacted_url_of(&self, req: &Request) -> String {
        match self.client.shared.build_url(&req.path, &req.query, &self.client.auth.config) {
            Ok(u) => self.client.shared.redactor.url(&u),
            Err(_) => self.client.shared.redactor.url_str(&req.path),
        }
    }

    async fn fetch_next(&mut self) -> Result<Option<Page>, HttpError> {
        if matches!(self.next, Next::Done) {
            return Ok(None);
        }
        if let Pagination::Cursor { cursor_path: None, cursor_header: None, .. } = &self.pagination {
            return Err(HttpError::Config(format!(
                "{}: cursor pagination needs a cursor path or a cursor header",
                self.label
            )));
        }
        let req = self.request_for(&self.next);
        let number = self.number + 1;
        let at = Location::for_page(self.label.clone(), number);
        let max = self.client.shared.max_pages;
        if max > 0 && number > max {
            return Err(HttpError::TooManyPages { at, max_pages: max, url: self.redacted_url_of(&req) });
        }
        self.number = number;
        let resp = self.client.send(&req).await.map_err(|e| e.at(at.clone()))?;
        if !resp.is_success() {
            return Err(resp.status_error(at));
        }
        if self.prev_body.as_ref().is_some_and(|b| *b == resp.body) {
            return Err(HttpError::LoopDetected {
                at,
                url: resp.url.clone(),
                reason: format!("page {number} has exactly the same body as page {}", number - 1),
            });
        }
        let redactor = &self.client.shared.redactor;
        let body = parse_json(&resp.body, &resp.url, redactor, at.clone())?;

        let total = match &self.pagination {
            Pagination::Offset { total_path: Some(p), .. } | Pagination::Page { total_path: Some(p), .. } => {
                lookup(&body, p).and_then(as_u64)
            }
            Pagination::Scim { .. } => lookup(&body, "totalResults").and_then(as_u64),
            _ => None,
        }
        .or_else(|| {
            resp.headers.get("x-total-count").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
        });

        let n = self.count_items(&body, total, number, &resp.url, &at)?;
        self.items_seen += n as u64;
        if self.first_count.is_none() {
            self.first_count = Some(n);
        }
        let n64 = n as u64;

        let next = match (&self.pagination, &self.next) {
            (Pagination::None, _) => Next::Done,
            (Pagination::Offset { limit, start, .. }, cur) => {
                let off = match cur {
                    Next::Offset(o) => *o,
                    _ => *start,
                };
                let new_off = off + n64;
                let stop = n == 0
                    || match total {
                        Some(t) => new_off >= t,
                        None => short_page(n64, *limit),
                    };
                if stop { Next::Done } else { Next::Offset(new_off) }
            }
            (Pagination::Page { size, start, total_pages_path, .. }, cur) => {
                let p = match cur {
                    Next::Page(p) => *p,
                    _ => *start,
                };
                let total_pages = total_pages_path.as_deref().and_then(|tp| lookup(&body, tp)).and_then(as_u64);
                let expected = size.or(self.first_count.map(|c| c as u64));
                let stop = n == 0
                    || total_pages.is_some_and(|tp| number >= tp)
                    || total.is_some_and(|t| self.items_seen >= t)
                    || (total.is_none() && total_pages.is_none() && expected.is_some_and(|e| short_page(n64, e)));
                if stop { Next::Done } else { Next::Page(p + 1) }
            }
            (Pagination::Cursor { cursor_path, cursor_header, .. }, _) => {
                let from_body = cursor_path.as_deref().and_then(|p| match lookup(&body, p) {
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                    Some(Value::Number(num)) => Some(num.to_string()),
                    _ => None,
                });
                let cursor = from_body.or_else(|| {
                    cursor_header.as_deref().and_then(|h| {
                        resp.headers
                            .get(h)
                            .and_then(|v| v.to_str().ok())
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                    })
                });
                match cursor {
                    None => Next::Done,
                    Some(c) => {
                        if !self.seen_cursors.insert(c.clone()) {
                            return Err(HttpError::LoopDetected {
                                at,
                                url: resp.url.clone(),
                                reason: format!("the cursor {:?} was returned twice", redactor.scrub(&shorten(&c, 60))),
                            });
                        }
                        Next::Cursor(c)
                    }
                }
            }
            (Pagination::NextLink { path }, _) => {
                let link = match lookup(&body, path) {
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                    _ => None,
                };
                self.next_url(link, &resp.real_url, &resp.url, &at)?
            }
            (Pagination::LinkHeader { .. }, _) => {
                let link = find_link(&resp.headers, "next").filter(|s| !s.trim().is_empty());
                self.next_url(link, &resp.real_url, &resp.url, &at)?
            }
            (Pagination::Scim { count }, cur) => {
                let s = match cur {
                    Next::Scim(s) => *s,
                    _ => 1,
                };
                let new_start = s + n64;
                let stop = n == 0
                    || match total {
                        Some(t) => new_start > t,
                        None => short_page(n64, *count),
                    };
                if stop { Next::Done } else { Next::Scim(new_start) }
            }
        };
        tracing::debug!(label = %self.label, page = number, items = n, url = %resp.url, "page");
        self.next = next;
        self.prev_body = Some(resp.body.clone());
        Ok(Some(Page {
            number,
            status: resp.status,
            headers: resp.headers,
            body,
            item_count: n,
            url: resp.url,
            total,
            items_path: self.items_path.clone(),
        }))
    }

    fn next_url(
        &mut self,
        link: Option<String>,
        current: &Url,
        current_redacted: &str,
        at: &Location,
    ) -> Result<Next, HttpError> {
        let Some(link) = link else {
            return Ok(Next::Done);
        };
        let redactor = &self.client.shared.redactor;
        let next = current.join(&link).map_err(|e| HttpError::Items {
            at: at.clone(),
            url: current_redacted.to_owned(),
            message: format!("the next link {:?} is not a valid URL: {e}", redactor.url_str(&link)),
            hint: "check the next-link path of the pagination",
        })?;
        if !self.seen_urls.insert(next.to_string()) || next == *current {
            return Err(HttpError::LoopDetected {
                at: at.clone(),
                url: current_redacted.to_owned(),
                reason: format!("the next URL {} was returned twice", redactor.url(&next)),
            });
        }
        Ok(Next::Url(next))
    }

    fn count_items(
        &self,
        body: &Value,
        total: Option<u64>,
        number: u64,
        url: &str,
        at: &Location,
    ) -> Result<usize, HttpError> {
        match self.items_path.as_deref() {
            None => match body {
                Value::Array(a) => Ok(a.len()),
                other => Err(HttpError::Items {
                    at: at.clone(),
                    url: url.to_owned(),
                    message: format!(
                        "no items path is set, so the body must be a JSON array, but it is {}",
                        describe_keys(other)
                    ),
                    hint: "set `items` to the dotted path of the array in the body (e.g. `items: data`)",
                }),
            },
            Some(p) => match lookup(body, p) {
                Some(Value::Array(a)) => Ok(a.len()),
                Some(Value::Null) => Ok(0),
                None if number > 1 || total == Some(0) => Ok(0),
                None => Err(HttpError::Items {
                    at: at.clone(),
                    url: url.to_owned(),
                    message: format!("no `{p}` in the page body, which is {}", describe_keys(body)),
                    hint: "set `items` to the dotted path of the array in the body",
                }),
                Some(other) => Err(HttpError::Items {
                    at: at.clone(),
                    url: url.to_owned(),
                    message: format!("`{p}` is {}, not an array", describe_keys(other)),
                    hint: "set `items` to the dotted path of the array in the body",
                }),
            },
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max { s.chars().take(max).collect::<String>() + "…" } else { s.to_owned() }
}

/// Without a total, a page shorter than asked usually means the end — unless the server silently clamped the
/// page size (asked 500, got 200 with more left). A short page of a round size (a multiple of 10) is taken
/// as a possible clamp and the next page is fetched to be sure: one extra request at worst, never a silently
/// truncated listing.
fn short_page(n: u64, asked: u64) -> bool {
    n < asked && !(n >= 10 && n.is_multiple_of(10))
}
