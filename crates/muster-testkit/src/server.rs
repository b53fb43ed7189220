//! The background-thread HTTP server shared by the demo and the generic API.

use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::serve::ListenerExt;

/// Maximum number of entries kept in the request log. Requests beyond the cap
/// are still counted by [`TestServer::request_count`] but not logged.
pub const REQUEST_LOG_CAP: usize = 100_000;

/// One logged request, recorded when the response head was produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLogEntry {
    /// HTTP method, e.g. `"GET"`.
    pub method: String,
    /// Path plus query string exactly as received, e.g. `"/users?offset=50&limit=50"`.
    pub path: String,
    /// Response status code.
    pub status: u16,
    /// Arrival time of the request, in milliseconds since the server started.
    pub at_ms: u64,
    /// Arrival time of the request, in microseconds since the server started.
    pub at_us: u64,
}

pub(crate) struct Recorder {
    start: Instant,
    latency: Duration,
    log: Mutex<Vec<RequestLogEntry>>,
    count: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

impl Recorder {
    fn new(latency: Duration) -> Self {
        Recorder {
            start: Instant::now(),
            latency,
            log: Mutex::new(Vec::new()),
            count: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
        }
    }
}

struct InFlightGuard<'a>(&'a Recorder);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn record(State(rec): State<Arc<Recorder>>, req: Request, next: Next) -> Response {
    let elapsed = rec.start.elapsed();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| req.uri().path().to_owned());
    rec.count.fetch_add(1, Ordering::Relaxed);
    let now_in_flight = rec.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    rec.max_in_flight.fetch_max(now_in_flight, Ordering::Relaxed);
    let _guard = InFlightGuard(&rec);
    if !rec.latency.is_zero() {
        tokio::time::sleep(rec.latency).await;
    }
    let resp = next.run(req).await;
    let at_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let entry = RequestLogEntry { method, path, status: resp.status().as_u16(), at_ms: at_us / 1000, at_us };
    let mut log = rec.log.lock().unwrap_or_else(PoisonError::into_inner);
    if log.len() < REQUEST_LOG_CAP {
        log.push(entry);
    }
    drop(log);
    resp
}

/// A running local HTTP server. It runs on its own OS thread with its own
/// tokio runtime, so it can be used from both sync and async code.
/// Dropping the handle shuts the server down (open connections are closed).
pub struct TestServer {
    addr: SocketAddr,
    recorder: Arc<Recorder>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl TestServer {
    /// `"http://127.0.0.1:PORT"` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound TCP port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The request log (oldest first by completion; capped at
    /// [`REQUEST_LOG_CAP`] entries).
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.recorder.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Total number of HTTP requests received (all routes, including
    /// token endpoints and 404s; not capped).
    pub fn request_count(&self) -> u64 {
        self.recorder.count.load(Ordering::Relaxed)
    }

    /// Highest number of requests being handled at the same time.
    pub fn max_concurrent_requests(&self) -> u64 {
        self.recorder.max_in_flight.load(Ordering::Relaxed)
    }

    /// Highest number of logged requests whose arrival times fall within any
    /// half-open sliding window `[t, t + window_ms)`.
    pub fn max_requests_in_any_window(&self, window_ms: u64) -> u64 {
        let mut times: Vec<u64> =
            self.recorder.log.lock().unwrap_or_else(PoisonError::into_inner).iter().map(|e| e.at_us).collect();
        max_in_window(&mut times, window_ms.saturating_mul(1000))
    }

    /// Clears the request log (the request counter is not reset).
    pub fn clear_requests(&self) {
        self.recorder.log.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

pub(crate) fn max_in_window(times: &mut [u64], window: u64) -> u64 {
    times.sort_unstable();
    let mut best = 0usize;
    let mut lo = 0usize;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= window.max(1) {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best as u64
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `127.0.0.1:port` (0 = random free port), builds the router with the
/// real base URL, and runs it on a dedicated thread.
pub(crate) fn spawn<F>(port: Option<u16>, latency: Duration, build: F) -> io::Result<TestServer>
where
    F: FnOnce(String) -> Router,
{
    let listener = std::net::TcpListener::bind(("127.0.0.1", port.unwrap_or(0)))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let recorder = Arc::new(Recorder::new(latency));
    let app = build(format!("http://{addr}")).layer(middleware::from_fn_with_state(recorder.clone(), record));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
    let thread = std::thread::Builder::new().name(format!("muster-testkit-{}", addr.port())).spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("muster-testkit-worker")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        rt.block_on(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(l) => l,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let server = axum::serve(listener, app).into_future();
            tokio::select! {
                _ = server => {}
                _ = rx => {}
            }
        });
        rt.shutdown_timeout(Duration::from_millis(200));
    })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(TestServer { addr, recorder, shutdown: Some(tx), thread: Some(thread) }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(io::Error::other("muster-testkit server thread exited early"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::max_in_window;

    #[test]
    fn window_counts() {
        let mut t = vec![0, 500_000, 999_999, 1_000_000, 2_500_000];
        assert_eq!(max_in_window(&mut t, 1_000_000), 3);
        let mut empty: Vec<u64> = vec![];
        assert_eq!(max_in_window(&mut empty, 1000), 0);
    }
}
