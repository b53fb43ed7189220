//! muster-cli
