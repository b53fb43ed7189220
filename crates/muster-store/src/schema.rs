//! Versioned migrations. Append to `MIGRATIONS`; never edit a released entry.
//!
//! The SQL keeps to what SQLite and PostgreSQL share where that is cheap (`ON CONFLICT DO NOTHING`,
//! `IS DISTINCT FROM`, `EXCEPT`, `||`); the id column of `syncs` is the SQLite-specific part.

use crate::error::StoreError;
use rusqlite::{Connection, OptionalExtension, params};

/// Migration `i` brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: snapshots.
    r#"
CREATE TABLE syncs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    connector       TEXT NOT NULL,
    spec_hash       TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    status          TEXT NOT NULL,
    error           TEXT,
    n_resource_types INTEGER NOT NULL DEFAULT 0,
    n_resources     INTEGER NOT NULL DEFAULT 0,
    n_entitlements  INTEGER NOT NULL DEFAULT 0,
    n_grants        INTEGER NOT NULL DEFAULT 0,
    n_findings      INTEGER NOT NULL DEFAULT 0,
    by_type         TEXT
);
CREATE INDEX syncs_by_connector ON syncs (connector, status, id);
CREATE INDEX syncs_by_status ON syncs (status);

CREATE TABLE resource_types (
    sync_id       INTEGER NOT NULL REFERENCES syncs (id),
    id            TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    traits        TEXT NOT NULL,
    UNIQUE (sync_id, id)
);

CREATE TABLE resources (
    sync_id             INTEGER NOT NULL REFERENCES syncs (id),
    resource_type       TEXT NOT NULL,
    id                  TEXT NOT NULL,
    parent_type         TEXT,
    parent_id           TEXT,
    display_name        TEXT,
    description         TEXT,
    status              TEXT NOT NULL,
    is_user             INTEGER NOT NULL,
    account_type        TEXT,
    login               TEXT,
    emails              TEXT,
    last_login          TEXT,
    mfa                 INTEGER,
    is_secret           INTEGER NOT NULL,
    secret_kind         TEXT,
    secret_owner_type   TEXT,
    secret_owner_id     TEXT,
    secret_created_at   TEXT,
    secret_expires_at   TEXT,
    secret_last_used_at TEXT,
    profile             TEXT,
    PRIMARY KEY (sync_id, resource_type, id)
) WITHOUT ROWID;

CREATE TABLE entitlements (
    sync_id        INTEGER NOT NULL REFERENCES syncs (id),
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    slug           TEXT NOT NULL,
    display_name   TEXT,
    purpose        TEXT NOT NULL,
    grantable_to   TEXT NOT NULL,
    PRIMARY KEY (sync_id, resource_type, resource_id, slug)
) WITHOUT ROWID;

CREATE TABLE grants (
    sync_id            INTEGER NOT NULL REFERENCES syncs (id),
    ent_resource_type  TEXT NOT NULL,
    ent_resource_id    TEXT NOT NULL,
    slug               TEXT NOT NULL,
    principal_type     TEXT NOT NULL,
    principal_id       TEXT NOT NULL,
    PRIMARY KEY (sync_id, ent_resource_type, ent_resource_id, slug, principal_type, principal_id)
) WITHOUT ROWID;

CREATE TABLE findings (
    seq      INTEGER PRIMARY KEY,
    sync_id  INTEGER NOT NULL REFERENCES syncs (id),
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX findings_by_sync ON findings (sync_id, seq);
"#,
    // 2: trust reports (evidence from `muster test`), bound to a spec hash and a base URL.
    r#"
CREATE TABLE trust_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connector   TEXT NOT NULL,
    spec_hash   TEXT NOT NULL,
    base_url    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    passed      INTEGER NOT NULL,
    score       INTEGER NOT NULL,
    report      TEXT NOT NULL
);
CREATE INDEX trust_reports_by_connector ON trust_reports (connector, spec_hash, id);
"#,
    // 3: governance: connector versions, approval decisions, the hash-chained audit log, sync reports.
    r#"
CREATE TABLE connector_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connector   TEXT NOT NULL,
    spec_hash   TEXT NOT NULL,
    canonical   TEXT NOT NULL,
    source      TEXT NOT NULL,
    author      TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (connector, spec_hash)
);
CREATE TABLE decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connector   TEXT NOT NULL,
    spec_hash   TEXT NOT NULL,
    decision    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    comment     TEXT NOT NULL,
    report_id   INTEGER,
    base_url    TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX decisions_by_connector ON decisions (connector, id);
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TABLE sync_reports (
    sync_id     INTEGER PRIMARY KEY REFERENCES syncs (id),
    report      TEXT NOT NULL
);
"#,
];

/// The schema version this build writes.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Bring the database to the latest version; each migration runs in its own transaction.
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let mig = |version: i64| move |source| StoreError::Migration { path: path.to_owned(), version, source };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        )",
    )
    .map_err(mig(0))?;
    let current = current_version(conn, path)?;
    if current > latest() {
        return Err(StoreError::SchemaTooNew { path: path.to_owned(), found: current, supported: latest() });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        // IMMEDIATE: two processes opening a fresh store at once must not both migrate.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(mig(version))?;
        let done: Option<i64> = tx
            .query_row("SELECT version FROM schema_version WHERE version = ?1", params![version], |r| r.get(0))
            .optional()
            .map_err(mig(version))?;
        if done.is_none() {
            tx.execute_batch(sql).map_err(mig(version))?;
            tx.execute("INSERT INTO schema_version (version) VALUES (?1)", params![version]).map_err(mig(version))?;
        }
        tx.commit().map_err(mig(version))?;
    }
    Ok(())
}

pub(crate) fn current_version(conn: &Connection, path: &str) -> Result<i64, StoreError> {
    conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0))
        .map_err(crate::error::db(path))
}
