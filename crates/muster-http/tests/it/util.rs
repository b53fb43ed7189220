use std::time::Duration;

use axum::Router;
use muster_http::{ClientConfig, HttpClient, RetryPolicy};

/// Serves a router on an ephemeral port; returns `http://127.0.0.1:PORT`.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

/// A config with fast retries.
pub fn config(base: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new(base);
    cfg.retry = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    cfg.timeout = Duration::from_secs(10);
    cfg
}

pub fn client(base: &str) -> HttpClient {
    HttpClient::new(config(base)).unwrap()
}

pub fn users(n: usize) -> Vec<serde_json::Value> {
    (0..n).map(|i| serde_json::json!({"id": format!("u{i}"), "name": format!("User {i}")})).collect()
}

/// Collects ids of all items.
pub fn ids(items: &[serde_json::Value]) -> Vec<String> {
    items.iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect()
}

pub fn expected_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("u{i}")).collect()
}
