//! Trust reports: the evidence `muster test` produces, kept bound to the spec hash and base URL tested.

use crate::Store;
use crate::error::{StoreError, db};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// A stored trust report (the full report is JSON in `report`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrustReportRow {
    pub id: i64,
    pub connector: String,
    pub spec_hash: String,
    pub base_url: String,
    pub created_at: String,
    pub passed: bool,
    pub score: u8,
    pub report: String,
}

impl Store {
    /// Keep a trust report; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn save_trust_report(
        &mut self,
        connector: &str,
        spec_hash: &str,
        base_url: &str,
        created_at: &str,
        passed: bool,
        score: u8,
        report_json: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO trust_reports (connector, spec_hash, base_url, created_at, passed, score, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![connector, spec_hash, base_url, created_at, passed, score, report_json],
        )
        .map_err(db(self.path()))?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Reports of a connector (optionally of one spec hash), newest first.
    pub fn trust_reports(&self, connector: &str, spec_hash: Option<&str>) -> Result<Vec<TrustReportRow>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT id, connector, spec_hash, base_url, created_at, passed, score, report FROM trust_reports
                 WHERE connector = ?1 AND (?2 IS NULL OR spec_hash = ?2) ORDER BY id DESC",
            )
            .map_err(db(self.path()))?;
        let rows = stmt
            .query_map(params![connector, spec_hash], row)
            .map_err(db(self.path()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db(self.path()))?;
        Ok(rows)
    }

    /// One report by id.
    pub fn trust_report(&self, id: i64) -> Result<Option<TrustReportRow>, StoreError> {
        self.conn()
            .query_row(
                "SELECT id, connector, spec_hash, base_url, created_at, passed, score, report FROM trust_reports WHERE id = ?1",
                params![id],
                row,
            )
            .optional()
            .map_err(db(self.path()))
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TrustReportRow> {
    Ok(TrustReportRow {
        id: r.get(0)?,
        connector: r.get(1)?,
        spec_hash: r.get(2)?,
        base_url: r.get(3)?,
        created_at: r.get(4)?,
        passed: r.get(5)?,
        score: r.get::<_, i64>(6)?.clamp(0, 100) as u8,
        report: r.get(7)?,
    })
}
