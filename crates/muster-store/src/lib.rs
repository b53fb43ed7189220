//! muster-store: the append-only snapshot store.
//!
//! Every sync writes a new snapshot, keyed by its sync id. Records stream in through [`SyncWriter`] (the
//! engine's [`muster_model::RecordSink`]), one transaction per batch; the snapshot becomes visible — the
//! connector's *current* sync — only when [`SyncWriter::finish`] commits. Completed snapshots are never
//! changed. Diffs between snapshots are SQL queries.
//!
//! SQLite (WAL, `synchronous=NORMAL`) is the embedded backend; a PostgreSQL backend will follow.
//!
//! A process that dies mid-sync leaves its sync `running`. Each writer holds an OS lock on a file beside
//! the database (`<db>-sync-<id>.lock`) for as long as it lives; [`Store::open`] marks `abandoned` only the
//! running syncs whose lock nobody holds, so opening the store while another process syncs is safe.

mod error;
mod governance;
mod read;
mod reports;
mod schema;
mod writer;

pub use error::StoreError;
pub use governance::{AuditEntry, AuditProblem, DecisionRow, VersionRow};
pub use reports::TrustReportRow;
pub use writer::SyncWriter;

use error::db;
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use muster_model::{Entitlement, Grant, Resource, ResourceRef, ResourceType};

/// How long a statement waits for another connection's write lock before failing with [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The life of a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Records are being written; not visible as a snapshot yet.
    Running,
    /// Finished; the newest completed sync of a connector is its current snapshot.
    Completed,
    /// The sync reported an error; its records were discarded.
    Failed,
    /// The process writing it ended without finishing; found at a later open, its records were discarded.
    Abandoned,
    /// Complete, but held by the drift guard: not current until a person accepts it.
    Held,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Running => "running",
            SyncStatus::Completed => "completed",
            SyncStatus::Failed => "failed",
            SyncStatus::Abandoned => "abandoned",
            SyncStatus::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<SyncStatus> {
        match s {
            "running" => Some(SyncStatus::Running),
            "completed" => Some(SyncStatus::Completed),
            "failed" => Some(SyncStatus::Failed),
            "abandoned" => Some(SyncStatus::Abandoned),
            "held" => Some(SyncStatus::Held),
            _ => None,
        }
    }
}

impl std::fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many records a snapshot holds (duplicates not counted; findings are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub resource_types: u64,
    pub resources: u64,
    pub entitlements: u64,
    pub grants: u64,
    pub findings: u64,
    /// Resources per resource type id.
    pub by_type: BTreeMap<String, u64>,
}

/// One sync, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncInfo {
    pub id: i64,
    pub connector: String,
    pub spec_hash: String,
    /// RFC 3339, from the caller's clock.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: SyncStatus,
    pub error: Option<String>,
    /// Stored at finish for completed syncs; counted live while running; zero once failed or abandoned.
    pub counts: Counts,
}

/// Something odd about a snapshot's data that did not stop the sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `dangling_principal`, `dangling_entitlement`, `duplicate_resource`, `duplicate_entitlement` or
    /// `duplicate_grant`.
    pub kind: String,
    /// What it is about, as `type:id` or `type:id:slug` (a grant: `type:id:slug -> type:id`).
    pub subject: String,
    pub detail: String,
}

/// The kinds of [`Finding`].
pub mod finding_kind {
    pub const DANGLING_PRINCIPAL: &str = "dangling_principal";
    pub const DANGLING_ENTITLEMENT: &str = "dangling_entitlement";
    pub const DUPLICATE_RESOURCE: &str = "duplicate_resource";
    pub const DUPLICATE_ENTITLEMENT: &str = "duplicate_entitlement";
    pub const DUPLICATE_GRANT: &str = "duplicate_grant";
}

/// What changed from snapshot `from` to snapshot `to`. Lists are sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncDiff {
    pub from: i64,
    pub to: i64,
    pub resources_added: Vec<ResourceRef>,
    pub resources_removed: Vec<ResourceRef>,
    /// In both, with a different display name, status, user trait or secret trait.
    pub resources_changed: Vec<ResourceRef>,
    pub grants_added: Vec<Grant>,
    pub grants_removed: Vec<Grant>,
}

/// A handle on one store database.
pub struct Store {
    conn: Connection,
    /// For messages: the file's path, or `:memory:`.
    path: String,
    /// The database file; `None` in memory (no lock files then).
    file: Option<PathBuf>,
    abandoned: Vec<i64>,
}

impl Store {
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Store {
    /// Open (creating if needed) the store at `path`, migrate it to the latest schema, and mark `abandoned`
    /// the syncs left running by processes that are gone (see [`Store::abandoned_at_open`]).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let display = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StoreError::Open { path: display.clone(), source })?;
        Store::init(conn, display, Some(path.to_path_buf()))
    }

    /// A fresh store that lives as long as the value (tests, dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let display = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open { path: display.clone(), source })?;
        Store::init(conn, display, None)
    }

    fn init(mut conn: Connection, path: String, file: Option<PathBuf>) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open { path: path.clone(), source };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Answers "wal" for a file, "memory" in memory.
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| StoreError::db(&path, e))?;
        for (name, value) in [
            ("synchronous", "NORMAL"),
            ("foreign_keys", "ON"),
            ("temp_store", "MEMORY"),
            // Negative: KiB. Bounded, so memory does not grow with the size of a sync.
            ("cache_size", "-32768"),
        ] {
            conn.pragma_update(None, name, value).map_err(|e| StoreError::db(&path, e))?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn, &path)?;
        let mut store = Store { conn, path, file, abandoned: Vec::new() };
        store.abandoned = store.abandon_dead_syncs()?;
        Ok(store)
    }

    /// The path this store was opened at (`:memory:` in memory).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The schema version of the database (after migration, the latest this build knows).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::current_version(&self.conn, &self.path)
    }

    /// Ids of the syncs this open found left `running` by a dead process and marked `abandoned`.
    pub fn abandoned_at_open(&self) -> &[i64] {
        &self.abandoned
    }

    fn abandon_dead_syncs(&mut self) -> Result<Vec<i64>, StoreError> {
        let running: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM syncs WHERE status = 'running' ORDER BY id")
                .map_err(db(&self.path))?;
            stmt.query_map([], |r| r.get(0))
                .map_err(db(&self.path))?
                .collect::<Result<Vec<i64>, _>>()
                .map_err(db(&self.path))?
        };
        let mut abandoned = Vec::new();
        for id in running {
            let lock = self.file.as_deref().map(|f| lock_path(f, id));
            if lock.as_deref().is_some_and(lock_held_elsewhere) {
                continue;
            }
            let tx = self.conn.transaction().map_err(db(&self.path))?;
            let changed = tx
                .execute(
                    "UPDATE syncs SET status = 'abandoned', error = ?2 \
                     WHERE id = ?1 AND status = 'running'",
                    params![id, "the process writing this sync ended before finishing it; its records were discarded"],
                )
                .map_err(db(&self.path))?;
            if changed == 1 {
                delete_rows(&tx, id).map_err(db(&self.path))?;
                abandoned.push(id);
            }
            tx.commit().map_err(db(&self.path))?;
            if let Some(lock) = lock {
                // Best effort: a stale lock file is harmless.
                let _ = std::fs::remove_file(lock);
            }
        }
        Ok(abandoned)
    }

    /// Start a sync of `connector`. It stays invisible until [`SyncWriter::finish`].
    pub fn begin_sync(
        &mut self,
        connector: &str,
        spec_hash: &str,
        started_at: &str,
    ) -> Result<SyncWriter<'_>, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(db(&path))?;
        tx.execute(
            "INSERT INTO syncs (connector, spec_hash, started_at, status) VALUES (?1, ?2, ?3, 'running')",
            params![connector, spec_hash, started_at],
        )
        .map_err(db(&path))?;
        let id = tx.last_insert_rowid();
        // Lock before the row becomes visible, so no other open can take it for abandoned.
        let lock = match &self.file {
            Some(f) => SyncLock::acquire(lock_path(f, id))?,
            None => SyncLock::none(),
        };
        tx.commit().map_err(db(&path))?;
        Ok(SyncWriter::new(self, id, lock))
    }

    fn sync_exists(&self, id: i64) -> Result<(), StoreError> {
        if self.has_sync(id)? { Ok(()) } else { Err(StoreError::SyncNotFound { path: self.path.clone(), id }) }
    }
}

/// Delete a sync's records (not its `syncs` row).
fn delete_rows(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    for table in ["grants", "entitlements", "resources", "resource_types", "findings"] {
        conn.execute(&format!("DELETE FROM {table} WHERE sync_id = ?1"), params![id])?;
    }
    Ok(())
}

fn lock_path(db: &Path, id: i64) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(format!("-sync-{id}.lock"));
    PathBuf::from(name)
}

/// Does a live process hold this sync's lock? When unsure, say yes: leaving a dead sync `running` is
/// harmless, discarding a live one is not.
fn lock_held_elsewhere(lock: &Path) -> bool {
    match File::options().read(true).write(true).open(lock) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(_) => true,
        Ok(f) => match f.try_lock() {
            Ok(()) => false,
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Error(_)) => true,
        },
    }
}

/// The OS lock a writer holds on `<db>-sync-<id>.lock` while it lives. Released (and the file removed) on
/// drop; the OS releases it if the process dies.
struct SyncLock {
    held: Option<(File, PathBuf)>,
}

impl SyncLock {
    fn none() -> SyncLock {
        SyncLock { held: None }
    }

    fn acquire(path: PathBuf) -> Result<SyncLock, StoreError> {
        let lock_err = |source| StoreError::Lock { lock: path.display().to_string(), source };
        let file = File::create(&path).map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(lock_err(std::io::Error::new(std::io::ErrorKind::WouldBlock, "held by another process")));
            }
            Err(TryLockError::Error(e)) => return Err(lock_err(e)),
        }
        Ok(SyncLock { held: Some((file, path)) })
    }
}

impl Drop for SyncLock {
    fn drop(&mut self) {
        if let Some((file, path)) = self.held.take() {
            let _ = std::fs::remove_file(&path);
            let _ = file.unlock();
        }
    }
}
