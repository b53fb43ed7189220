//! muster-http
