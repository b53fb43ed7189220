//! Serve a generic testkit scenario until killed, for benchmarks:
//! `muster-testkit-server --users N --groups G --members-per-group M [--page-size P] [--latency-ms L]`.
//!
//! Prints `BASE_URL=http://127.0.0.1:PORT` on the first line of stdout and
//! `STATS_URL=http://127.0.0.1:PORT2` on the second. The stats listener is a
//! separate port so that observing the server never adds requests to the
//! scenario's own request log:
//! * `GET {STATS_URL}/_stats` → `{"requests":N,"logged":L,"max_1s":M,"max_in_flight":K,...}` where `max_1s` is
//!   the highest number of requests whose arrival times fall within any sliding one-second window
//!   (over the logged requests; `logged < requests` means the log cap was reached and `max_1s` is a lower
//!   bound), and `max_in_flight` the highest number of requests handled at once.
//! * `GET {STATS_URL}/_stats/reset` clears the request log (the counters `requests` and `max_in_flight`
//!   keep running).
//!
//! `first_arrival_us` / `last_arrival_us` (in the `_stats` answer) are the earliest and latest logged arrival
//! times, in microseconds since the server started.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use muster_testkit::{Pagination, Scenario, TestServer, serve};
use std::io::Write as _;
use std::sync::Arc;

fn usage() -> ! {
    eprintln!(
        "usage: muster-testkit-server [--users N] [--groups G] [--members-per-group M] [--page-size MAX] \
         [--default-page-size D] [--latency-ms L]"
    );
    std::process::exit(2)
}

fn main() {
    let mut s = Scenario { max_page_size: 1000, default_page_size: 100, ..Scenario::default() };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") || !args.len().is_multiple_of(2) {
        usage();
    }
    let mut i = 0;
    while i + 1 < args.len() {
        let v = &args[i + 1];
        let n: u64 = v.parse().unwrap_or_else(|_| {
            eprintln!("{}: `{v}` is not a number", args[i]);
            std::process::exit(2)
        });
        match args[i].as_str() {
            "--users" => s.users = n as usize,
            "--groups" => s.groups = n as usize,
            "--members-per-group" => s.members_per_group = n as usize,
            "--page-size" => s.max_page_size = n as usize,
            "--default-page-size" => s.default_page_size = n as usize,
            "--latency-ms" => s.latency_ms = n,
            other => {
                eprintln!("unknown option {other}");
                usage()
            }
        }
        i += 2;
    }
    s.pagination = Pagination::Offset;
    let server = match serve(s) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("cannot start the server: {e}");
            std::process::exit(1)
        }
    };
    println!("BASE_URL={}", server.base_url());
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the stats runtime: {e}");
            std::process::exit(1)
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("cannot bind the stats port: {e}");
                std::process::exit(1)
            }
        };
        match listener.local_addr() {
            Ok(a) => println!("STATS_URL=http://{a}"),
            Err(e) => {
                eprintln!("cannot read the stats address: {e}");
                std::process::exit(1)
            }
        }
        let _ = std::io::stdout().flush();
        let app = Router::new().route("/_stats", get(stats)).route("/_stats/reset", get(reset)).with_state(server);
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("stats server: {e}");
        }
    });
}

async fn stats(State(server): State<Arc<TestServer>>) -> impl IntoResponse {
    let log = server.requests();
    let first_us = log.iter().map(|e| e.at_us).min().unwrap_or(0);
    let last_us = log.iter().map(|e| e.at_us).max().unwrap_or(0);
    axum::Json(serde_json::json!({
        "requests": server.request_count(),
        "logged": log.len(),
        "first_arrival_us": first_us,
        "last_arrival_us": last_us,
        "max_1s": server.max_requests_in_any_window(1000),
        "max_in_flight": server.max_concurrent_requests(),
    }))
}

async fn reset(State(server): State<Arc<TestServer>>) -> impl IntoResponse {
    server.clear_requests();
    axum::Json(serde_json::json!({ "reset": true }))
}
