//! Writing one sync: batches in, findings and counts at the end.

use crate::error::{StoreError, db};
use crate::finding_kind::*;
use crate::{Store, SyncInfo, SyncLock, delete_rows};
use muster_model::{Entitlement, Grant, Record, RecordSink, Resource, ResourceType, SinkError};
use rusqlite::{CachedStatement, Connection, params};

const INSERT_RESOURCE_TYPE: &str = "INSERT INTO resource_types (sync_id, id, display_name, traits) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

const INSERT_RESOURCE: &str = "INSERT INTO resources (sync_id, resource_type, id, parent_type, parent_id, \
     display_name, description, status, is_user, account_type, login, emails, last_login, mfa, is_secret, \
     secret_kind, secret_owner_type, secret_owner_id, secret_created_at, secret_expires_at, \
     secret_last_used_at, profile) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22) \
     ON CONFLICT DO NOTHING";

const INSERT_ENTITLEMENT: &str = "INSERT INTO entitlements (sync_id, resource_type, resource_id, slug, \
     display_name, purpose, grantable_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";

const INSERT_GRANT: &str = "INSERT INTO grants (sync_id, ent_resource_type, ent_resource_id, slug, \
     principal_type, principal_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";

const INSERT_FINDING: &str = "INSERT INTO findings (sync_id, kind, subject, detail) VALUES (?1, ?2, ?3, ?4)";

/// Grants whose principal is not among the sync's resources.
const DANGLING_PRINCIPALS: &str = "INSERT INTO findings (sync_id, kind, subject, detail) \
     SELECT g.sync_id, ?2, g.principal_type || ':' || g.principal_id, \
       'grant of ' || g.ent_resource_type || ':' || g.ent_resource_id || ':' || g.slug || ' to ' || \
       g.principal_type || ':' || g.principal_id || ': the principal is not among the resources of this sync' \
     FROM grants g \
     LEFT JOIN resources r \
       ON r.sync_id = g.sync_id AND r.resource_type = g.principal_type AND r.id = g.principal_id \
     WHERE g.sync_id = ?1 AND r.id IS NULL \
     ORDER BY g.principal_type, g.principal_id, g.ent_resource_type, g.ent_resource_id, g.slug";

/// Grants whose entitlement was never synced.
const DANGLING_ENTITLEMENTS: &str = "INSERT INTO findings (sync_id, kind, subject, detail) \
     SELECT g.sync_id, ?2, g.ent_resource_type || ':' || g.ent_resource_id || ':' || g.slug, \
       'grant of ' || g.ent_resource_type || ':' || g.ent_resource_id || ':' || g.slug || ' to ' || \
       g.principal_type || ':' || g.principal_id || ': the entitlement is not among the entitlements of this sync' \
     FROM grants g \
     LEFT JOIN entitlements e \
       ON e.sync_id = g.sync_id AND e.resource_type = g.ent_resource_type \
       AND e.resource_id = g.ent_resource_id AND e.slug = g.slug \
     WHERE g.sync_id = ?1 AND e.slug IS NULL \
     ORDER BY g.ent_resource_type, g.ent_resource_id, g.slug, g.principal_type, g.principal_id";

/// Writes the records of one running sync. Implements [`RecordSink`].
///
/// Dropping it without [`finish`](SyncWriter::finish) or [`fail`](SyncWriter::fail) leaves the sync
/// `running`; the next [`Store::open`] marks it `abandoned`.
pub struct SyncWriter<'a> {
    store: &'a mut Store,
    id: i64,
    _lock: SyncLock,
    /// Records written since the open write transaction began (0: none open).
    pending: usize,
}

/// Records per write transaction. A sync becomes visible only at `finish`, so large transactions cost
/// nothing in safety and save a commit (and WAL sync) per batch.
const COMMIT_EVERY: usize = 100_000;

impl Drop for SyncWriter<'_> {
    /// A writer dropped mid-sync (an error on the way out) leaves no open transaction behind.
    fn drop(&mut self) {
        if self.pending > 0 {
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
    }
}

impl std::fmt::Debug for SyncWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncWriter").field("id", &self.id).field("store", &self.store.path).finish()
    }
}

struct Statements<'c> {
    resource_type: CachedStatement<'c>,
    resource: CachedStatement<'c>,
    entitlement: CachedStatement<'c>,
    grant: CachedStatement<'c>,
    finding: CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        Ok(Statements {
            resource_type: conn.prepare_cached(INSERT_RESOURCE_TYPE)?,
            resource: conn.prepare_cached(INSERT_RESOURCE)?,
            entitlement: conn.prepare_cached(INSERT_ENTITLEMENT)?,
            grant: conn.prepare_cached(INSERT_GRANT)?,
            finding: conn.prepare_cached(INSERT_FINDING)?,
        })
    }
}

impl<'a> SyncWriter<'a> {
    pub(crate) fn new(store: &'a mut Store, id: i64, lock: SyncLock) -> SyncWriter<'a> {
        SyncWriter { store, id, _lock: lock, pending: 0 }
    }

    /// The id of the sync being written.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Write one batch. Batches share a write transaction, committed every [`COMMIT_EVERY`] records and at
    /// the end. Duplicates are kept once and recorded as findings.
    pub fn write(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let id = self.id;
        let path = &self.store.path;
        if self.pending == 0 {
            self.store.conn.execute_batch("BEGIN").map_err(db(path))?;
        }
        {
            let mut st = Statements::prepare(&self.store.conn).map_err(db(path))?;
            for record in records {
                match record {
                    Record::ResourceType(rt) => insert_resource_type(&mut st, id, rt, path)?,
                    Record::Resource(r) => insert_resource(&mut st, id, r, path)?,
                    Record::Entitlement(e) => insert_entitlement(&mut st, id, e, path)?,
                    Record::Grant(g) => insert_grant(&mut st, id, g).map_err(db(path))?,
                }
            }
        }
        self.pending += records.len().max(1);
        if self.pending >= COMMIT_EVERY {
            self.commit_pending()?;
        }
        Ok(())
    }

    fn commit_pending(&mut self) -> Result<(), StoreError> {
        if self.pending > 0 {
            self.store.conn.execute_batch("COMMIT").map_err(db(&self.store.path))?;
            self.pending = 0;
        }
        Ok(())
    }

    /// Record the dangling-reference findings, store the counts and mark the sync `completed`, all in one
    /// transaction: from its commit on, this sync is its connector's current snapshot.
    pub fn finish(self, finished_at: &str) -> Result<SyncInfo, StoreError> {
        self.finish_as("completed", finished_at, None)
    }

    /// Like [`finish`](Self::finish), but the sync is kept `held`: stored in full, not current, until a
    /// person accepts it ([`Store::accept_held`]). `reason` says what it would lose.
    pub fn finish_held(self, finished_at: &str, reason: &str) -> Result<SyncInfo, StoreError> {
        self.finish_as("held", finished_at, Some(reason))
    }

    /// Counts of what this sync has written so far (before it finishes), e.g. for a drift guard.
    pub fn counts(&self) -> Result<crate::Counts, StoreError> {
        crate::read::live_counts(&self.store.conn, self.id, &self.store.path)
    }

    fn finish_as(mut self, status: &str, finished_at: &str, error: Option<&str>) -> Result<SyncInfo, StoreError> {
        self.commit_pending()?;
        let id = self.id;
        let path = &self.store.path;
        let tx = self.store.conn.transaction().map_err(db(path))?;
        ensure_running(&tx, id, path)?;
        tx.execute(DANGLING_PRINCIPALS, params![id, DANGLING_PRINCIPAL]).map_err(db(path))?;
        tx.execute(DANGLING_ENTITLEMENTS, params![id, DANGLING_ENTITLEMENT]).map_err(db(path))?;
        let counts = crate::read::live_counts(&tx, id, path)?;
        let by_type = serde_json::to_string(&counts.by_type)
            .map_err(|e| StoreError::corrupt(path, format!("cannot encode counts: {e}")))?;
        tx.execute(
            "UPDATE syncs SET status = ?9, finished_at = ?2, n_resource_types = ?3, \
             n_resources = ?4, n_entitlements = ?5, n_grants = ?6, n_findings = ?7, by_type = ?8, error = ?10 \
             WHERE id = ?1 AND status = 'running'",
            params![
                id,
                finished_at,
                counts.resource_types as i64,
                counts.resources as i64,
                counts.entitlements as i64,
                counts.grants as i64,
                counts.findings as i64,
                by_type,
                status,
                error
            ],
        )
        .map_err(db(path))?;
        tx.commit().map_err(db(path))?;
        self.store.sync(id)?.ok_or_else(|| StoreError::SyncNotFound { path: path.clone(), id })
    }

    /// Mark the sync `failed` with `error` and discard its records. The connector's previous completed
    /// sync stays current.
    pub fn fail(mut self, finished_at: &str, error: &str) -> Result<(), StoreError> {
        if self.pending > 0 {
            // Nothing of a failed sync is kept: undo the open transaction rather than commit it.
            self.store.conn.execute_batch("ROLLBACK").map_err(db(&self.store.path))?;
            self.pending = 0;
        }
        let id = self.id;
        let path = &self.store.path;
        let tx = self.store.conn.transaction().map_err(db(path))?;
        ensure_running(&tx, id, path)?;
        delete_rows(&tx, id).map_err(db(path))?;
        tx.execute(
            "UPDATE syncs SET status = 'failed', finished_at = ?2, error = ?3 \
             WHERE id = ?1 AND status = 'running'",
            params![id, finished_at, error],
        )
        .map_err(db(path))?;
        tx.commit().map_err(db(path))
    }
}

impl RecordSink for SyncWriter<'_> {
    fn write_batch(&mut self, records: &[Record]) -> Result<(), SinkError> {
        self.write(records).map_err(|e| SinkError(e.to_string()))
    }
}

fn ensure_running(conn: &Connection, id: i64, path: &str) -> Result<(), StoreError> {
    let status: String =
        conn.query_row("SELECT status FROM syncs WHERE id = ?1", params![id], |r| r.get(0)).map_err(db(path))?;
    if status == "running" { Ok(()) } else { Err(StoreError::NotRunning { path: path.to_owned(), id, status }) }
}

fn json<T: serde::Serialize + ?Sized>(value: &T, path: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(path, format!("cannot encode a value as JSON: {e}")))
}

fn insert_resource_type(st: &mut Statements<'_>, sync: i64, rt: &ResourceType, path: &str) -> Result<(), StoreError> {
    let traits = json(&rt.traits, path)?;
    st.resource_type.execute(params![sync, rt.id, rt.display_name, traits]).map_err(db(path))?;
    Ok(())
}

fn insert_resource(st: &mut Statements<'_>, sync: i64, r: &Resource, path: &str) -> Result<(), StoreError> {
    let user = r.user.as_ref();
    let secret = r.secret.as_ref();
    let emails = match user {
        Some(u) if !u.emails.is_empty() => Some(json(&u.emails, path)?),
        _ => None,
    };
    let profile = if r.profile.is_empty() { None } else { Some(json(&r.profile, path)?) };
    let owner = secret.and_then(|s| s.owner.as_ref());
    let inserted = st
        .resource
        .execute(params![
            sync,
            r.resource_type,
            r.id,
            r.parent.as_ref().map(|p| p.resource_type.as_str()),
            r.parent.as_ref().map(|p| p.id.as_str()),
            r.display_name,
            r.description,
            r.status.as_str(),
            user.is_some(),
            user.and_then(|u| u.account_type).map(|a| a.as_str()),
            user.and_then(|u| u.login.as_deref()),
            emails,
            user.and_then(|u| u.last_login.as_deref()),
            user.and_then(|u| u.mfa),
            secret.is_some(),
            secret.and_then(|s| s.kind.as_deref()),
            owner.map(|o| o.resource_type.as_str()),
            owner.map(|o| o.id.as_str()),
            secret.and_then(|s| s.created_at.as_deref()),
            secret.and_then(|s| s.expires_at.as_deref()),
            secret.and_then(|s| s.last_used_at.as_deref()),
            profile,
        ])
        .map_err(db(path))?;
    if inserted == 0 {
        let subject = format!("{}:{}", r.resource_type, r.id);
        let detail = format!("resource {subject} was emitted more than once; the first copy was kept");
        st.finding.execute(params![sync, DUPLICATE_RESOURCE, subject, detail]).map_err(db(path))?;
    }
    Ok(())
}

fn insert_entitlement(st: &mut Statements<'_>, sync: i64, e: &Entitlement, path: &str) -> Result<(), StoreError> {
    let grantable_to = json(&e.grantable_to, path)?;
    let inserted = st
        .entitlement
        .execute(params![
            sync,
            e.resource.resource_type,
            e.resource.id,
            e.slug,
            e.display_name,
            e.purpose.as_str(),
            grantable_to,
        ])
        .map_err(db(path))?;
    if inserted == 0 {
        let subject = e.reference().to_string();
        let detail = format!("entitlement {subject} was emitted more than once; the first copy was kept");
        st.finding.execute(params![sync, DUPLICATE_ENTITLEMENT, subject, detail]).map_err(db(path))?;
    }
    Ok(())
}

fn insert_grant(st: &mut Statements<'_>, sync: i64, g: &Grant) -> rusqlite::Result<()> {
    let inserted = st.grant.execute(params![
        sync,
        g.entitlement.resource.resource_type,
        g.entitlement.resource.id,
        g.entitlement.slug,
        g.principal.resource_type,
        g.principal.id,
    ])?;
    if inserted == 0 {
        let subject = format!("{} -> {}", g.entitlement, g.principal);
        let detail = format!("grant {subject} was emitted more than once");
        st.finding.execute(params![sync, DUPLICATE_GRANT, subject, detail])?;
    }
    Ok(())
}
