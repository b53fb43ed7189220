//! Integration tests against in-process axum servers on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::type_complexity)]

mod auth;
mod faults;
mod pagination;
mod ratelimit;
mod util;
