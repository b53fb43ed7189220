//! `start`: refuses unsafe binds, serves on a real socket, stops on request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may unwrap

mod common;

use common::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn start_refuses_public_binds_without_a_token_and_missing_stores() {
    let f = fixture();
    let r = muster_web::start(config(&f.db), "0.0.0.0:0".parse().unwrap(), async {}, |_| {}).await;
    assert!(matches!(r, Err(muster_web::StartError::Config(m)) if m.contains("--token")));
    let r =
        muster_web::start(config(&f.db.with_file_name("none.db")), "127.0.0.1:0".parse().unwrap(), async {}, |_| {})
            .await;
    assert!(matches!(r, Err(muster_web::StartError::Config(m)) if m.contains("no store")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_serves_until_shutdown() {
    let f = fixture();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(muster_web::start(
        config(&f.db),
        "127.0.0.1:0".parse().unwrap(),
        async {
            let _ = stopped.await;
        },
        move |a| {
            let _ = addr_tx.send(a);
        },
    ));
    let addr = addr_rx.await.unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET /api/connectors HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("Acme Directory"));
    // a foreign Host is refused on loopback
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /api/connectors HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
