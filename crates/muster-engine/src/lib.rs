//! Runs a compiled connector: rows → records (map), offline tests, and the sync engine.
pub mod map;
pub mod offline;
