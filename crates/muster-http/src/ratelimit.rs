//! Client-side rate limiter: a token bucket combined with a sliding window.
//!
//! A plain token bucket with capacity `b` and rate `r` admits up to `b + r`
//! requests in one second (a full bucket plus one second of refill). To
//! guarantee "never more than `per_second` in any one-second window" we combine
//! two rules, both must allow a request:
//!
//! 1. a token bucket with rate `per_second` and capacity
//!    `min(burst, floor(per_second))` (at least 1) — smooths traffic;
//! 2. a sliding window: at most `n = max(1, floor(per_second))` requests in any
//!    window of `n / per_second` seconds (one second for `per_second >= 1`),
//!    plus a safety margin of [`WINDOW_MARGIN`] to absorb network jitter
//!    between the client and the server's clock.
//!
//! Rule 2 is the hard guarantee; rule 1 keeps bursts within `burst`.
//! Time comes from `tokio::time`, so tests can pause it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::RateLimit;

/// Extra length added to the one-second window so that jitter between our
/// grant time and the server's receive time cannot push `n + 1` requests into
/// one server-side second. Costs at most 1% throughput (a 50 ms margin cost 5% and capped a
/// rate-limited sync's speed-up below the declared limit; loopback jitter is well under 10 ms).
pub const WINDOW_MARGIN: Duration = Duration::from_millis(10);

#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    capacity: f64,
    window: Duration,
    window_max: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    last: Instant,
    grants: VecDeque<Instant>,
}

impl RateLimiter {
    /// Returns `None` when the limit is not positive and finite (no limit).
    pub(crate) fn new(limit: RateLimit) -> Option<Self> {
        let rate = limit.per_second;
        if !(rate.is_finite() && rate > 0.0) {
            return None;
        }
        let floor = rate.floor().max(1.0);
        let capacity = f64::from(limit.burst.max(1)).min(floor);
        let window_max = floor as usize;
        let window = Duration::from_secs_f64(floor / rate) + WINDOW_MARGIN;
        Some(RateLimiter {
            rate,
            capacity,
            window,
            window_max,
            state: Mutex::new(State {
                tokens: capacity,
                last: Instant::now(),
                grants: VecDeque::with_capacity(window_max + 1),
            }),
        })
    }

    /// Waits until a request may start, then records it.
    pub(crate) async fn acquire(&self) {
        loop {
            let wait = match self.state.lock() {
                Ok(mut st) => self.try_take(&mut st, Instant::now()),
                // A poisoned lock means a panic elsewhere; do not block forever.
                Err(_) => None,
            };
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d.max(Duration::from_millis(1))).await,
            }
        }
    }

    /// Takes a permit (returns `None`) or says how long to wait.
    fn try_take(&self, st: &mut State, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(st.last).as_secs_f64();
        st.tokens = (st.tokens + elapsed * self.rate).min(self.capacity);
        st.last = now;
        while let Some(front) = st.grants.front() {
            if now.saturating_duration_since(*front) >= self.window {
                st.grants.pop_front();
            } else {
                break;
            }
        }
        let bucket_wait = if st.tokens >= 1.0 - 1e-9 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - st.tokens) / self.rate)
        };
        let window_wait = if st.grants.len() < self.window_max {
            Duration::ZERO
        } else {
            st.grants.front().map(|f| (*f + self.window).saturating_duration_since(now)).unwrap_or(Duration::ZERO)
        };
        let wait = bucket_wait.max(window_wait);
        if wait.is_zero() {
            st.tokens = (st.tokens - 1.0).max(0.0);
            st.grants.push_back(now);
            None
        } else {
            Some(wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_rate_per_window() {
        let lim = RateLimiter::new(RateLimit { per_second: 5.0, burst: 50 }).unwrap();
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..40 {
            lim.acquire().await;
            times.push(Instant::now() - start);
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| **u < *t + Duration::from_secs(1)).count();
            assert!(in_window <= 5, "window at {t:?} has {in_window}");
        }
        // Burst capped at 5: the first five are immediate.
        assert!(times[4].is_zero());
    }

    #[tokio::test(start_paused = true)]
    async fn fractional_rate() {
        let lim = RateLimiter::new(RateLimit { per_second: 0.5, burst: 3 }).unwrap();
        let start = Instant::now();
        lim.acquire().await;
        lim.acquire().await;
        assert!(Instant::now() - start >= Duration::from_secs(2));
    }

    #[test]
    fn zero_rate_is_no_limit() {
        assert!(RateLimiter::new(RateLimit { per_second: 0.0, burst: 1 }).is_none());
    }
}
