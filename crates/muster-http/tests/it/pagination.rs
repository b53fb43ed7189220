use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use muster_http::{HttpClient, HttpError, Pagination, Request};
use serde_json::{Value, json};

use crate::util::{client, config, expected_ids, ids, serve, users};

type Q = Query<HashMap<String, String>>;

fn num(q: &HashMap<String, String>, k: &str, default: usize) -> usize {
    q.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn slice(all: &[Value], from: usize, n: usize) -> Vec<Value> {
    all.iter().skip(from).take(n).cloned().collect()
}

#[derive(Clone)]
struct S {
    all: Arc<Vec<Value>>,
    hits: Arc<AtomicUsize>,
}

fn state(n: usize) -> S {
    S { all: Arc::new(users(n)), hits: Arc::new(AtomicUsize::new(0)) }
}

async fn offset_h(State(s): State<S>, Query(q): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let (o, l) = (num(&q, "offset", 0), num(&q, "limit", 10));
    Json(json!({"items": slice(&s.all, o, l), "meta": {"total": s.all.len()}}))
}

async fn page_h(State(s): State<S>, Query(q): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let (p, size) = (num(&q, "page", 1), num(&q, "per_page", 10));
    let pages = s.all.len().div_ceil(size);
    Json(json!({"data": slice(&s.all, (p - 1) * size, size), "total_pages": pages}))
}

async fn cursor_h(State(s): State<S>, Query(q): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let from = q.get("cursor").map(|c| c.trim_start_matches("c").parse().unwrap()).unwrap_or(0usize);
    let l = num(&q, "limit", 10);
    let next = if from + l < s.all.len() { json!(format!("c{}", from + l)) } else { Value::Null };
    Json(json!({"items": slice(&s.all, from, l), "paging": {"next": next}}))
}

async fn cursor_header_h(State(s): State<S>, Query(q): Q) -> impl IntoResponse {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let from: usize = q.get("after").map(|c| c.parse().unwrap()).unwrap_or(0);
    let mut h = HeaderMap::new();
    if from + 10 < s.all.len() {
        h.insert("x-next-cursor", HeaderValue::from(from + 10));
    }
    (h, Json(json!(slice(&s.all, from, 10))))
}

async fn next_h(State(s): State<S>, Query(q): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let from = num(&q, "after", 0);
    let style = q.get("style").cloned().unwrap_or_default();
    let next = if from + 10 >= s.all.len() {
        Value::Null
    } else {
        match style.as_str() {
            // relative to the current URL's directory
            "rel" => json!(format!("list?after={}&style=rel", from + 10)),
            // absolute path
            "abs-path" => json!(format!("/api/list?after={}&style=abs-path", from + 10)),
            // empty string ends too
            _ => json!(format!("{}/api/list?after={}", q["base"], from + 10) + "&base=" + &q["base"]),
        }
    };
    let next = if from + 10 >= s.all.len() && style == "abs-path" { json!("") } else { next };
    Json(json!({"value": slice(&s.all, from, 10), "links": {"next": next}}))
}

async fn link_h(State(s): State<S>, headers: HeaderMap, Query(q): Q) -> impl IntoResponse {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let host = headers["host"].to_str().unwrap().to_owned();
    let (p, size) = (num(&q, "page", 1), num(&q, "per_page", 30));
    let last = s.all.len().div_ceil(size);
    let mut links = vec![format!("<http://{host}/gh/users?page=1&per_page={size}>; rel=\"first\"")];
    if p < last {
        links.push(format!("<http://{host}/gh/users?page={}&per_page={size}>; rel=\"next\"", p + 1));
    }
    links.push(format!("<http://{host}/gh/users?page={last}&per_page={size}>; rel=last"));
    let mut h = HeaderMap::new();
    h.insert("link", HeaderValue::from_str(&links.join(", ")).unwrap());
    (h, Json(json!(slice(&s.all, (p - 1) * size, size))))
}

async fn scim_h(State(s): State<S>, Query(q): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let (start, count) = (num(&q, "startIndex", 1), num(&q, "count", 100));
    // This server caps pages at 4 items whatever count asks for.
    let items = slice(&s.all, start - 1, count.min(4));
    Json(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": s.all.len(),
        "startIndex": start,
        "itemsPerPage": items.len(),
        "Resources": items,
    }))
}

fn router(s: S) -> Router {
    Router::new()
        .route("/api/offset", get(offset_h))
        .route("/api/page", get(page_h))
        .route("/api/cursor", get(cursor_h))
        .route("/api/cursor-header", get(cursor_header_h))
        .route("/api/list", get(next_h))
        .route("/gh/users", get(link_h))
        .route("/scim/v2/Users", get(scim_h))
        .with_state(s)
}

async fn walk(c: &HttpClient, req: Request, p: Pagination, items: Option<&str>) -> (Vec<Value>, u64) {
    let mut pager = c.paginate(req, p, items.map(str::to_owned), "user");
    let mut all = Vec::new();
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        pages += 1;
        assert_eq!(page.number, pages);
        assert_eq!(page.item_count, page.items().len());
        all.extend(page.items().iter().cloned());
    }
    // Exhausted pagers stay exhausted.
    assert!(pager.next_page().await.unwrap().is_none());
    (all, pages)
}

fn offset(total_path: Option<&str>, limit: u64) -> Pagination {
    Pagination::Offset {
        offset_param: "offset".into(),
        limit_param: "limit".into(),
        limit,
        start: 0,
        total_path: total_path.map(str::to_owned),
    }
}

#[tokio::test]
async fn offset_short_page_and_total() {
    let s = state(25);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let (items, pages) = walk(&c, Request::get("/api/offset"), offset(None, 10), Some("items")).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 3);
    // With the total known, the walk ends at offset >= total.
    let (items, pages) = walk(&c, Request::get("/api/offset"), offset(Some("meta.total"), 5), Some("items")).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 5);
}

#[tokio::test]
async fn offset_exact_multiple_stops_on_empty_page() {
    let s = state(20);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let (items, pages) = walk(&c, Request::get("/api/offset"), offset(None, 10), Some("items")).await;
    assert_eq!(items.len(), 20);
    assert_eq!(pages, 3);
    let (_, pages) = walk(&c, Request::get("/api/offset"), offset(Some("meta.total"), 10), Some("items")).await;
    assert_eq!(pages, 2);
}

#[tokio::test]
async fn page_number_with_total_pages_and_short_page() {
    let s = state(25);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let p = |tp: Option<&str>| Pagination::Page {
        page_param: "page".into(),
        size_param: Some("per_page".into()),
        size: Some(10),
        start: 1,
        total_path: None,
        total_pages_path: tp.map(str::to_owned),
    };
    let (items, pages) = walk(&c, Request::get("/api/page"), p(Some("total_pages")), Some("data")).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 3);
    let (items, pages) = walk(&c, Request::get("/api/page"), p(None), Some("data")).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn cursor_in_body_and_header() {
    let s = state(25);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let p = Pagination::Cursor {
        param: "cursor".into(),
        size_param: Some("limit".into()),
        size: Some(10),
        cursor_path: Some("paging.next".into()),
        cursor_header: None,
    };
    let (items, pages) = walk(&c, Request::get("/api/cursor"), p, Some("items")).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 3);

    let p = Pagination::Cursor {
        param: "after".into(),
        size_param: None,
        size: None,
        cursor_path: None,
        cursor_header: Some("X-Next-Cursor".into()),
    };
    let (items, pages) = walk(&c, Request::get("/api/cursor-header"), p, None).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn next_link_relative_and_absolute() {
    let s = state(25);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let p = Pagination::NextLink { path: "links.next".into() };
    for style in ["rel", "abs-path"] {
        let req = Request::get("/api/list").with_query("style", style);
        let (items, pages) = walk(&c, req, p.clone(), Some("value")).await;
        assert_eq!(ids(&items), expected_ids(25), "{style}");
        assert_eq!(pages, 3);
    }
    let req = Request::get("/api/list").with_query("base", &base);
    let (items, pages) = walk(&c, req, p, Some("value")).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn link_header_walk() {
    let s = state(25);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let p = Pagination::LinkHeader { size_param: Some("per_page".into()), size: Some(7) };
    let (items, pages) = walk(&c, Request::get("/gh/users"), p, None).await;
    assert_eq!(ids(&items), expected_ids(25));
    assert_eq!(pages, 4);
}

#[tokio::test]
async fn scim_walk_with_server_capped_pages() {
    let s = state(10);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let mut pager = c.paginate(Request::get("/scim/v2/Users"), Pagination::Scim { count: 100 }, None, "user");
    let mut all = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        assert_eq!(page.total, Some(10));
        all.extend(page.items().iter().cloned());
    }
    assert_eq!(ids(&all), expected_ids(10));
    assert_eq!(pager.pages_fetched(), 3);
}

#[tokio::test]
async fn pagination_none_is_one_page() {
    let s = state(25);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let (items, pages) = walk(&c, Request::get("/api/offset"), Pagination::None, Some("items")).await;
    assert_eq!(items.len(), 10);
    assert_eq!(pages, 1);
}

#[tokio::test]
async fn loop_guard_repeating_cursor() {
    let app = Router::new().route(
        "/c",
        get(|Query(q): Q| async move {
            // Ignores the cursor's position but changes the body.
            let n = q.get("cursor").cloned().unwrap_or_default();
            Json(json!({"items": [{"id": n}], "next": "same"}))
        }),
    );
    let base = serve(app).await;
    let c = client(&base);
    let p = Pagination::Cursor {
        param: "cursor".into(),
        size_param: None,
        size: None,
        cursor_path: Some("next".into()),
        cursor_header: None,
    };
    let mut pager = c.paginate(Request::get("/c"), p, Some("items".into()), "group g1 members");
    assert!(pager.next_page().await.unwrap().is_some());
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, HttpError::LoopDetected { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("group g1 members page 2:"), "{msg}");
    assert!(msg.contains("\"same\""), "{msg}");
    // A failed pager is finished.
    assert!(pager.next_page().await.unwrap().is_none());
}

#[tokio::test]
async fn loop_guard_identical_body_and_repeated_next_url() {
    let app = Router::new().route("/same", get(|| async { Json(json!([{"id": 1}, {"id": 2}])) })).route(
        "/self",
        get(|Query(q): Q| async move {
            let n = num(&q, "n", 0);
            Json(json!({"items": [{"id": n}], "next": "/self?n=1"}))
        }),
    );
    let base = serve(app).await;
    let c = client(&base);
    let p = Pagination::Page {
        page_param: "page".into(),
        size_param: None,
        size: None,
        start: 1,
        total_path: None,
        total_pages_path: None,
    };
    let mut pager = c.paginate(Request::get("/same"), p, None, "user");
    pager.next_page().await.unwrap();
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, HttpError::LoopDetected { .. }), "{err}");
    assert!(err.to_string().contains("user page 2"), "{err}");

    let p = Pagination::NextLink { path: "next".into() };
    let mut pager = c.paginate(Request::get("/self"), p, Some("items".into()), "user");
    pager.next_page().await.unwrap();
    // Page 2 (/self?n=1) names itself as the next page.
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, HttpError::LoopDetected { .. }), "{err}");
    assert!(err.to_string().contains("user page 2"), "{err}");
}

#[tokio::test]
async fn max_pages_limit() {
    let s = state(25);
    let base = serve(router(s.clone())).await;
    let mut cfg = config(&base);
    cfg.max_pages = 2;
    let c = HttpClient::new(cfg).unwrap();
    let mut pager = c.paginate(Request::get("/api/offset"), offset(None, 10), Some("items".into()), "user");
    pager.next_page().await.unwrap().unwrap();
    pager.next_page().await.unwrap().unwrap();
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, HttpError::TooManyPages { max_pages: 2, .. }), "{err}");
    assert!(err.to_string().contains("user page 3"), "{err}");
    assert!(err.to_string().contains("offset=20"), "{err}");
    assert_eq!(s.hits.load(Ordering::SeqCst), 2);
    // Exactly max_pages pages are fine.
    let (_, pages) = walk(&c, Request::get("/api/offset"), offset(Some("meta.total"), 15), Some("items")).await;
    assert_eq!(pages, 2);
}

#[tokio::test]
async fn malformed_json_names_page_and_offset() {
    let app = Router::new().route(
        "/bad",
        get(|Query(q): Q| async move {
            if num(&q, "page", 1) == 1 {
                (StatusCode::OK, r#"{"items":[{"id":"a"}]}"#.to_owned())
            } else {
                (StatusCode::OK, r#"{"items":[{"id":"b"},"#.to_owned())
            }
        }),
    );
    let base = serve(app).await;
    let c = client(&base);
    let p = Pagination::Page {
        page_param: "page".into(),
        size_param: None,
        size: Some(1),
        start: 1,
        total_path: None,
        total_pages_path: None,
    };
    let mut pager = c.paginate(Request::get("/bad"), p, Some("items".into()), "role");
    pager.next_page().await.unwrap();
    let err = pager.next_page().await.unwrap_err();
    match &err {
        HttpError::Json { at, offset, .. } => {
            assert_eq!(at.page(), Some(2));
            assert_eq!(*offset, 20);
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with("role page 2: the response from"), "{msg}");
    assert!(msg.contains("/bad?page=2"), "{msg}");
}

#[tokio::test]
async fn items_not_an_array_gives_hint() {
    let s = state(3);
    let base = serve(router(s.clone())).await;
    let c = client(&base);
    let mut pager = c.paginate(Request::get("/api/offset"), offset(None, 10), None, "user");
    let err = pager.next_page().await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, HttpError::Items { .. }), "{msg}");
    assert!(msg.contains("an object with keys: items, meta"), "{msg}");
    assert!(msg.contains("hint: set `items`"), "{msg}");

    let mut pager = c.paginate(Request::get("/api/offset"), offset(None, 10), Some("data".into()), "user");
    let err = pager.next_page().await.unwrap_err();
    assert!(err.to_string().contains("no `data` in the page body"), "{err}");
}

#[tokio::test]
async fn status_error_in_pagination_names_label_and_page() {
    let app =
        Router::new().route("/x", get(|| async { (StatusCode::FORBIDDEN, "{\"error\":\"insufficient scope\"}") }));
    let base = serve(app).await;
    let c = client(&base);
    let mut pager = c.paginate(Request::get("/x"), Pagination::None, None, "app");
    let err = pager.next_page().await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    let msg = err.to_string();
    assert!(msg.starts_with("app page 1: GET http://127.0.0.1:"), "{msg}");
    assert!(msg.contains("insufficient scope"), "{msg}");
    assert!(msg.contains("lack permission"), "{msg}");
}
