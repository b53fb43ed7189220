//! Governance records: connector versions, approval decisions, the hash-chained audit log, held syncs and
//! per-sync reports.
//!
//! ## The audit log
//! Append-only. Entry `n` holds `prev_hash` = the hash of entry `n-1` (64 zeros for the first) and
//! `hash` = sha256 over the canonical JSON of `{action, actor, at, detail, prev_hash, seq, subject}` (keys
//! sorted, no whitespace). [`Store::audit_verify`] recomputes the chain and names the first entry that was
//! edited, deleted, inserted or moved.

use crate::error::{StoreError, db};
use crate::{Store, SyncInfo};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One registered version of a connector spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionRow {
    pub id: i64,
    pub connector: String,
    pub spec_hash: String,
    /// The canonical JSON of the spec (what the hash is over).
    pub canonical: String,
    /// The YAML as written (comments included), for review and for running the approved version.
    pub source: String,
    pub author: String,
    pub message: String,
    pub created_at: String,
}

/// An approval or rejection of one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRow {
    pub id: i64,
    pub connector: String,
    pub spec_hash: String,
    /// `approve` or `reject`.
    pub decision: String,
    pub actor: String,
    pub comment: String,
    pub report_id: Option<i64>,
    /// The base URL the approving trust report tested.
    pub base_url: Option<String>,
    pub created_at: String,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// JSON text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The first place the audit chain breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditProblem {
    /// The sequence number of the first bad entry (or where one is missing).
    pub seq: i64,
    pub problem: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn entry_hash(seq: i64, at: &str, actor: &str, action: &str, subject: &str, detail: &str, prev: &str) -> String {
    // Keys in sorted order; serde_json escapes strings canonically.
    let s = |v: &str| serde_json::Value::String(v.to_string()).to_string();
    let canonical = format!(
        "{{\"action\":{},\"actor\":{},\"at\":{},\"detail\":{},\"prev_hash\":{},\"seq\":{seq},\"subject\":{}}}",
        s(action),
        s(actor),
        s(at),
        s(detail),
        s(prev),
        s(subject)
    );
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        id: r.get(0)?,
        connector: r.get(1)?,
        spec_hash: r.get(2)?,
        canonical: r.get(3)?,
        source: r.get(4)?,
        author: r.get(5)?,
        message: r.get(6)?,
        created_at: r.get(7)?,
    })
}

fn decision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRow> {
    Ok(DecisionRow {
        id: r.get(0)?,
        connector: r.get(1)?,
        spec_hash: r.get(2)?,
        decision: r.get(3)?,
        actor: r.get(4)?,
        comment: r.get(5)?,
        report_id: r.get(6)?,
        base_url: r.get(7)?,
        created_at: r.get(8)?,
    })
}

const VERSION_COLS: &str = "id, connector, spec_hash, canonical, source, author, message, created_at";
const DECISION_COLS: &str = "id, connector, spec_hash, decision, actor, comment, report_id, base_url, created_at";

impl Store {
    /// Register a version; returns it and whether it is new (an identical hash is not added twice).
    #[allow(clippy::too_many_arguments)]
    pub fn add_version(
        &mut self,
        connector: &str,
        spec_hash: &str,
        canonical: &str,
        source: &str,
        author: &str,
        message: &str,
        created_at: &str,
    ) -> Result<(VersionRow, bool), StoreError> {
        let n = self
            .conn()
            .execute(
                "INSERT INTO connector_versions (connector, spec_hash, canonical, source, author, message, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (connector, spec_hash) DO NOTHING",
                params![connector, spec_hash, canonical, source, author, message, created_at],
            )
            .map_err(db(self.path()))?;
        let row = self
            .version(connector, spec_hash)?
            .ok_or_else(|| StoreError::corrupt(self.path(), "a version vanished after insert".to_string()))?;
        Ok((row, n == 1))
    }

    /// Versions of a connector, newest first.
    pub fn versions(&self, connector: &str) -> Result<Vec<VersionRow>, StoreError> {
        let mut st = self
            .conn()
            .prepare(&format!("SELECT {VERSION_COLS} FROM connector_versions WHERE connector = ?1 ORDER BY id DESC"))
            .map_err(db(self.path()))?;
        let rows = st.query_map(params![connector], version_row).map_err(db(self.path()))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db(self.path()))
    }

    /// A version by its hash or a unique prefix of it (with or without `sha256:`).
    pub fn version(&self, connector: &str, hash: &str) -> Result<Option<VersionRow>, StoreError> {
        let h = hash.trim();
        let full = if h.starts_with("sha256:") { h.to_string() } else { format!("sha256:{h}") };
        let matches: Vec<VersionRow> =
            self.versions(connector)?.into_iter().filter(|v| v.spec_hash.starts_with(&full)).collect();
        Ok(if matches.len() == 1 { matches.into_iter().next() } else { None })
    }

    /// Connectors with at least one registered version.
    pub fn registered_connectors(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn()
            .prepare("SELECT DISTINCT connector FROM connector_versions ORDER BY connector")
            .map_err(db(self.path()))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(db(self.path()))?;
        rows.collect::<Result<Vec<String>, _>>().map_err(db(self.path()))
    }

    /// Record an approval or rejection.
    #[allow(clippy::too_many_arguments)]
    pub fn add_decision(
        &mut self,
        connector: &str,
        spec_hash: &str,
        decision: &str,
        actor: &str,
        comment: &str,
        report_id: Option<i64>,
        base_url: Option<&str>,
        created_at: &str,
    ) -> Result<DecisionRow, StoreError> {
        self.conn()
            .execute(
                "INSERT INTO decisions (connector, spec_hash, decision, actor, comment, report_id, base_url, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![connector, spec_hash, decision, actor, comment, report_id, base_url, created_at],
            )
            .map_err(db(self.path()))?;
        let id = self.conn().last_insert_rowid();
        self.conn()
            .query_row(&format!("SELECT {DECISION_COLS} FROM decisions WHERE id = ?1"), params![id], decision_row)
            .map_err(db(self.path()))
    }

    /// Decisions about a connector, newest first.
    pub fn decisions(&self, connector: &str) -> Result<Vec<DecisionRow>, StoreError> {
        let mut st = self
            .conn()
            .prepare(&format!("SELECT {DECISION_COLS} FROM decisions WHERE connector = ?1 ORDER BY id DESC"))
            .map_err(db(self.path()))?;
        let rows = st.query_map(params![connector], decision_row).map_err(db(self.path()))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db(self.path()))
    }

    /// The version approved for production: the newest approval, unless that version was rejected since.
    pub fn approved(&self, connector: &str) -> Result<Option<DecisionRow>, StoreError> {
        let all = self.decisions(connector)?;
        let Some(ap) = all.iter().find(|d| d.decision == "approve") else { return Ok(None) };
        let revoked = all.iter().any(|d| d.decision == "reject" && d.spec_hash == ap.spec_hash && d.id > ap.id);
        Ok(if revoked { None } else { Some(ap.clone()) })
    }

    /// Append an audit entry (hash-chained to the previous one) in its own transaction.
    pub fn audit(
        &mut self,
        at: &str,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        let path = self.path().to_string();
        let detail = detail.to_string();
        let conn = self.conn_mut();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db(&path))?;
        let last: Option<(i64, String)> = tx
            .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db(&path))?;
        let (seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS.to_string()),
        };
        let hash = entry_hash(seq, at, actor, action, subject, &detail, &prev);
        tx.execute(
            "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![seq, at, actor, action, subject, detail, prev, hash],
        )
        .map_err(db(&path))?;
        tx.commit().map_err(db(&path))?;
        Ok(AuditEntry {
            seq,
            at: at.into(),
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail,
            prev_hash: prev,
            hash,
        })
    }

    /// The audit log, oldest first (in storage order).
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut st = self
            .conn()
            .prepare("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY rowid")
            .map_err(db(self.path()))?;
        let rows = st
            .query_map([], |r| {
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                    detail: r.get(5)?,
                    prev_hash: r.get(6)?,
                    hash: r.get(7)?,
                })
            })
            .map_err(db(self.path()))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db(self.path()))
    }

    /// Recompute the chain; `Ok(None)` when intact, else the first bad entry.
    pub fn audit_verify(&self) -> Result<Option<AuditProblem>, StoreError> {
        let entries = self.audit_entries()?;
        let mut prev = GENESIS.to_string();
        for (i, e) in entries.iter().enumerate() {
            let expected_seq = i as i64 + 1;
            if e.seq != expected_seq {
                return Ok(Some(AuditProblem {
                    seq: expected_seq,
                    problem: format!(
                        "entry #{expected_seq} is missing or out of order (found #{} in its place)",
                        e.seq
                    ),
                }));
            }
            if e.prev_hash != prev {
                return Ok(Some(AuditProblem {
                    seq: e.seq,
                    problem: format!(
                        "entry #{} does not follow the entry before it (its prev_hash does not match): an entry was deleted, inserted or reordered",
                        e.seq
                    ),
                }));
            }
            let h = entry_hash(e.seq, &e.at, &e.actor, &e.action, &e.subject, &e.detail, &e.prev_hash);
            if h != e.hash {
                return Ok(Some(AuditProblem {
                    seq: e.seq,
                    problem: format!("entry #{} was edited: its content does not match its hash", e.seq),
                }));
            }
            prev = e.hash.clone();
        }
        Ok(None)
    }

    /// Make a held sync current (after a person reviewed what it drops).
    pub fn accept_held(&mut self, sync_id: i64) -> Result<SyncInfo, StoreError> {
        let path = self.path().to_string();
        let n = self
            .conn()
            .execute("UPDATE syncs SET status = 'completed' WHERE id = ?1 AND status = 'held'", params![sync_id])
            .map_err(db(&path))?;
        let info = self.sync(sync_id)?.ok_or(StoreError::SyncNotFound { path: path.clone(), id: sync_id })?;
        if n == 0 {
            return Err(StoreError::NotRunning { path, id: sync_id, status: info.status.as_str().to_string() });
        }
        Ok(info)
    }

    /// Keep the engine's report of a sync (coverage, listings), as JSON.
    pub fn save_sync_report(&mut self, sync_id: i64, report_json: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO sync_reports (sync_id, report) VALUES (?1, ?2) ON CONFLICT (sync_id) DO UPDATE SET report = excluded.report",
                params![sync_id, report_json],
            )
            .map_err(db(self.path()))?;
        Ok(())
    }

    pub fn sync_report(&self, sync_id: i64) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row("SELECT report FROM sync_reports WHERE sync_id = ?1", params![sync_id], |r| r.get(0))
            .optional()
            .map_err(db(self.path()))
    }
}
