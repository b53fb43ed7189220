use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use muster_http::{HttpClient, RateLimit, Request};

use crate::util::{config, serve};

type Arrivals = Arc<Mutex<Vec<Instant>>>;

/// Largest number of arrivals in any window [t, t + 1 s).
fn max_per_window(times: &[Instant]) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut j = 0;
    for i in 0..sorted.len() {
        while j < sorted.len() && sorted[j] < sorted[i] + Duration::from_secs(1) {
            j += 1;
        }
        best = best.max(j - i);
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_exceeds_per_second_in_any_window() {
    let arrivals: Arrivals = Arc::default();
    let app = Router::new()
        .route(
            "/x",
            get(|State(a): State<Arrivals>| async move {
                a.lock().unwrap().push(Instant::now());
                "[]"
            }),
        )
        .with_state(arrivals.clone());
    let base = serve(app).await;
    let mut cfg = config(&base);
    // burst > per_second: the effective burst is capped at per_second.
    cfg.rate_limit = Some(RateLimit { per_second: 5.0, burst: 20 });
    cfg.max_concurrency = 16;
    let c = HttpClient::new(cfg).unwrap();
    // Two clones, eight workers each, for about three seconds of traffic.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for k in 0..16 {
        let c = if k % 2 == 0 { c.clone() } else { c.without_auth() };
        tasks.push(tokio::spawn(async move {
            while tokio::time::Instant::now() < deadline {
                c.send_ok(&Request::get("/x")).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let times = arrivals.lock().unwrap().clone();
    assert!(times.len() >= 12, "only {} requests", times.len());
    let max = max_per_window(&times);
    assert!(max <= 5, "{max} requests in one second ({} total)", times.len());
}
