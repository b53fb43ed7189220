//! Errors of the store. Every message names the database it concerns and, where one helps, a hint.

use rusqlite::ErrorCode;

/// Something went wrong reading or writing a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error(
        "cannot open the store at {path}: {source} (hint: check that the directory exists and that you may write to it)"
    )]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },

    /// Another process holds the database locked for longer than the busy timeout.
    #[error(
        "the store at {path} is locked by another process: {source} (hint: wait for the other muster command to finish, then retry)"
    )]
    Busy {
        path: String,
        #[source]
        source: rusqlite::Error,
    },

    /// A schema migration failed; the database stays at the previous version.
    #[error(
        "cannot migrate the store at {path} to schema version {version}: {source} (hint: the file is unchanged; check free disk space and permissions)"
    )]
    Migration {
        path: String,
        version: i64,
        #[source]
        source: rusqlite::Error,
    },

    /// The database was written by a newer muster.
    #[error(
        "the store at {path} has schema version {found}, newer than the {supported} this muster understands (hint: upgrade muster, or point it at another store)"
    )]
    SchemaTooNew { path: String, found: i64, supported: i64 },

    /// No sync with this id exists.
    #[error("the store at {path} has no sync {id} (hint: `muster syncs` lists the syncs it holds)")]
    SyncNotFound { path: String, id: i64 },

    /// `finish` or `fail` found its sync no longer running (another process marked it abandoned).
    #[error(
        "sync {id} in the store at {path} is {status}, not running (hint: another process opened the store and gave it up; run the sync again)"
    )]
    NotRunning { path: String, id: i64, status: String },

    /// A stored value cannot be read back.
    #[error(
        "the store at {path} holds a value that cannot be read: {detail} (hint: was the file written by another tool or edited by hand?)"
    )]
    Corrupt { path: String, detail: String },

    /// A lock file beside the database could not be created.
    #[error("cannot create the lock file {lock}: {source} (hint: the directory of the store must be writable)")]
    Lock {
        lock: String,
        #[source]
        source: std::io::Error,
    },

    /// Any other database error.
    #[error("database error in the store at {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Wrap a rusqlite error, telling a busy/locked database apart from other failures.
    pub(crate) fn db(path: &str, source: rusqlite::Error) -> StoreError {
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy { path, source },
            _ => StoreError::Sqlite { path, source },
        }
    }

    pub(crate) fn corrupt(path: &str, detail: impl Into<String>) -> StoreError {
        StoreError::Corrupt { path: path.to_owned(), detail: detail.into() }
    }
}

/// `map_err` helper: `.map_err(db(path))`.
pub(crate) fn db(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::db(path, e)
}
