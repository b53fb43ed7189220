//! Runs a compiled connector: rows → records ([`map`]), offline fixture tests ([`offline`]) and the sync
//! engine ([`sync`]), which streams records to a `RecordSink`.
pub mod map;
pub mod offline;
pub mod sync;
