//! Reading snapshots back, counting, diffing.

use crate::error::{StoreError, db};
use crate::{Counts, Finding, Store, SyncDiff, SyncInfo, SyncStatus};
use muster_model::{
    AccountType, Entitlement, EntitlementRef, Grant, Purpose, Resource, ResourceRef, ResourceType, SecretTraits,
    Status, Trait, UserTraits,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::BTreeMap;

const SYNC_COLUMNS: &str = "id, connector, spec_hash, started_at, finished_at, status, error, \
     n_resource_types, n_resources, n_entitlements, n_grants, n_findings, by_type";

const RESOURCE_COLUMNS: &str = "resource_type, id, parent_type, parent_id, display_name, description, \
     status, is_user, account_type, login, emails, last_login, mfa, is_secret, secret_kind, \
     secret_owner_type, secret_owner_id, secret_created_at, secret_expires_at, secret_last_used_at, profile";

/// Count a sync's rows now (used at finish, and for syncs still running).
pub(crate) fn live_counts(conn: &Connection, id: i64, path: &str) -> Result<Counts, StoreError> {
    let mut counts = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM resource_types WHERE sync_id = ?1), \
                    (SELECT COUNT(*) FROM resources WHERE sync_id = ?1), \
                    (SELECT COUNT(*) FROM entitlements WHERE sync_id = ?1), \
                    (SELECT COUNT(*) FROM grants WHERE sync_id = ?1), \
                    (SELECT COUNT(*) FROM findings WHERE sync_id = ?1)",
            params![id],
            |r| {
                Ok(Counts {
                    resource_types: r.get::<_, i64>(0)? as u64,
                    resources: r.get::<_, i64>(1)? as u64,
                    entitlements: r.get::<_, i64>(2)? as u64,
                    grants: r.get::<_, i64>(3)? as u64,
                    findings: r.get::<_, i64>(4)? as u64,
                    by_type: BTreeMap::new(),
                })
            },
        )
        .map_err(db(path))?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT resource_type, COUNT(*) FROM resources WHERE sync_id = ?1 \
             GROUP BY resource_type ORDER BY resource_type",
        )
        .map_err(db(path))?;
    let mut rows = stmt.query(params![id]).map_err(db(path))?;
    while let Some(row) = rows.next().map_err(db(path))? {
        let ty: String = row.get(0).map_err(db(path))?;
        let n: i64 = row.get(1).map_err(db(path))?;
        counts.by_type.insert(ty, n as u64);
    }
    Ok(counts)
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str, path: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(path, format!("{what} is not valid JSON ({e}): {text}")))
}

fn opt_ref(ty: Option<String>, id: Option<String>) -> Option<ResourceRef> {
    match (ty, id) {
        (Some(resource_type), Some(id)) => Some(ResourceRef { resource_type, id }),
        _ => None,
    }
}

/// The columns of `RESOURCE_COLUMNS`, in order.
fn resource_from_row(row: &Row<'_>, path: &str) -> Result<Resource, StoreError> {
    let g = |e| StoreError::db(path, e);
    let resource_type: String = row.get(0).map_err(g)?;
    let id: String = row.get(1).map_err(g)?;
    let status: String = row.get(6).map_err(g)?;
    let status = Status::parse(&status)
        .ok_or_else(|| StoreError::corrupt(path, format!("resource {resource_type}:{id} has status {status:?}")))?;
    let user = if row.get::<_, bool>(7).map_err(g)? {
        let account_type = match row.get::<_, Option<String>>(8).map_err(g)? {
            None => None,
            Some(a) => Some(AccountType::parse(&a).ok_or_else(|| {
                StoreError::corrupt(path, format!("resource {resource_type}:{id} has account type {a:?}"))
            })?),
        };
        let emails = match row.get::<_, Option<String>>(10).map_err(g)? {
            None => Vec::new(),
            Some(text) => parse_json(&text, "emails", path)?,
        };
        Some(UserTraits {
            emails,
            login: row.get(9).map_err(g)?,
            account_type,
            last_login: row.get(11).map_err(g)?,
            mfa: row.get(12).map_err(g)?,
        })
    } else {
        None
    };
    let secret = if row.get::<_, bool>(13).map_err(g)? {
        Some(SecretTraits {
            kind: row.get(14).map_err(g)?,
            owner: opt_ref(row.get(15).map_err(g)?, row.get(16).map_err(g)?),
            created_at: row.get(17).map_err(g)?,
            expires_at: row.get(18).map_err(g)?,
            last_used_at: row.get(19).map_err(g)?,
        })
    } else {
        None
    };
    let profile = match row.get::<_, Option<String>>(20).map_err(g)? {
        None => serde_json::Map::new(),
        Some(text) => parse_json(&text, "profile", path)?,
    };
    Ok(Resource {
        parent: opt_ref(row.get(2).map_err(g)?, row.get(3).map_err(g)?),
        display_name: row.get(4).map_err(g)?,
        description: row.get(5).map_err(g)?,
        status,
        user,
        secret,
        profile,
        resource_type,
        id,
    })
}

fn sync_from_row(row: &Row<'_>, path: &str) -> Result<SyncInfo, StoreError> {
    let g = |e| StoreError::db(path, e);
    let id: i64 = row.get(0).map_err(g)?;
    let status: String = row.get(5).map_err(g)?;
    let status = SyncStatus::parse(&status)
        .ok_or_else(|| StoreError::corrupt(path, format!("sync {id} has status {status:?}")))?;
    let by_type = match row.get::<_, Option<String>>(12).map_err(g)? {
        None => BTreeMap::new(),
        Some(text) => parse_json(&text, "counts by type", path)?,
    };
    let n = |i| row.get::<_, i64>(i).map(|v| v as u64).map_err(g);
    Ok(SyncInfo {
        id,
        connector: row.get(1).map_err(g)?,
        spec_hash: row.get(2).map_err(g)?,
        started_at: row.get(3).map_err(g)?,
        finished_at: row.get(4).map_err(g)?,
        status,
        error: row.get(6).map_err(g)?,
        counts: Counts {
            resource_types: n(7)?,
            resources: n(8)?,
            entitlements: n(9)?,
            grants: n(10)?,
            findings: n(11)?,
            by_type,
        },
    })
}

fn refs(conn: &Connection, sql: &str, a: i64, b: i64, path: &str) -> Result<Vec<ResourceRef>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db(path))?;
    let rows = stmt
        .query_map(params![a, b], |r| Ok(ResourceRef { resource_type: r.get(0)?, id: r.get(1)? }))
        .map_err(db(path))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db(path))
}

fn grant_from_row(r: &Row<'_>) -> rusqlite::Result<Grant> {
    Ok(Grant {
        entitlement: EntitlementRef {
            resource: ResourceRef { resource_type: r.get(0)?, id: r.get(1)? },
            slug: r.get(2)?,
        },
        principal: ResourceRef { resource_type: r.get(3)?, id: r.get(4)? },
    })
}

impl Store {
    fn query_syncs(&self, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<SyncInfo>, StoreError> {
        let path = &self.path;
        let mut stmt = self.conn.prepare_cached(sql).map_err(db(path))?;
        let mut rows = stmt.query(params).map_err(db(path))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db(path))? {
            out.push(sync_from_row(row, path)?);
        }
        drop(rows);
        for info in &mut out {
            if info.status == SyncStatus::Running {
                info.counts = live_counts(&self.conn, info.id, path)?;
            }
        }
        Ok(out)
    }

    /// All syncs, or those of one connector; newest first.
    pub fn syncs(&self, connector: Option<&str>) -> Result<Vec<SyncInfo>, StoreError> {
        match connector {
            None => self.query_syncs(&format!("SELECT {SYNC_COLUMNS} FROM syncs ORDER BY id DESC"), &[]),
            Some(c) => self
                .query_syncs(&format!("SELECT {SYNC_COLUMNS} FROM syncs WHERE connector = ?1 ORDER BY id DESC"), &[&c]),
        }
    }

    /// One sync by id.
    pub fn sync(&self, id: i64) -> Result<Option<SyncInfo>, StoreError> {
        Ok(self.query_syncs(&format!("SELECT {SYNC_COLUMNS} FROM syncs WHERE id = ?1"), &[&id])?.pop())
    }

    /// The connector's current snapshot: its newest completed sync.
    pub fn current_sync(&self, connector: &str) -> Result<Option<SyncInfo>, StoreError> {
        Ok(self
            .query_syncs(
                &format!(
                    "SELECT {SYNC_COLUMNS} FROM syncs WHERE connector = ?1 AND status = 'completed' \
                     ORDER BY id DESC LIMIT 1"
                ),
                &[&connector],
            )?
            .pop())
    }

    /// Connectors that have at least one sync, whatever its status; sorted.
    pub fn connectors(&self) -> Result<Vec<String>, StoreError> {
        let path = &self.path;
        let mut stmt =
            self.conn.prepare_cached("SELECT DISTINCT connector FROM syncs ORDER BY connector").map_err(db(path))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(db(path))?;
        rows.collect::<Result<Vec<String>, _>>().map_err(db(path))
    }

    /// Call `f` with each resource of a sync (optionally of one type), ordered by type and id, without
    /// loading them all.
    pub fn for_each_resource(
        &self,
        sync_id: i64,
        resource_type: Option<&str>,
        mut f: impl FnMut(Resource),
    ) -> Result<(), StoreError> {
        self.sync_exists(sync_id)?;
        let path = &self.path;
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE sync_id = ?1 \
             AND (?2 IS NULL OR resource_type = ?2) ORDER BY resource_type, id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db(path))?;
        let mut rows = stmt.query(params![sync_id, resource_type]).map_err(db(path))?;
        while let Some(row) = rows.next().map_err(db(path))? {
            f(resource_from_row(row, path)?);
        }
        Ok(())
    }

    /// The resources of a sync (optionally of one type), ordered by type and id.
    pub fn resources(&self, sync_id: i64, resource_type: Option<&str>) -> Result<Vec<Resource>, StoreError> {
        let mut out = Vec::new();
        self.for_each_resource(sync_id, resource_type, |r| out.push(r))?;
        Ok(out)
    }

    /// The resource types of a sync, in the order they were written.
    pub fn resource_types(&self, sync_id: i64) -> Result<Vec<ResourceType>, StoreError> {
        self.sync_exists(sync_id)?;
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, display_name, traits FROM resource_types WHERE sync_id = ?1 ORDER BY rowid")
            .map_err(db(path))?;
        let mut rows = stmt.query(params![sync_id]).map_err(db(path))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db(path))? {
            let traits: String = row.get(2).map_err(db(path))?;
            let traits: Vec<Trait> = parse_json(&traits, "resource type traits", path)?;
            out.push(ResourceType {
                id: row.get(0).map_err(db(path))?,
                display_name: row.get(1).map_err(db(path))?,
                traits,
            });
        }
        Ok(out)
    }

    /// The entitlements of a sync (optionally on resources of one type), ordered by resource and slug.
    pub fn entitlements(&self, sync_id: i64, resource_type: Option<&str>) -> Result<Vec<Entitlement>, StoreError> {
        self.sync_exists(sync_id)?;
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT resource_type, resource_id, slug, display_name, purpose, grantable_to \
                 FROM entitlements WHERE sync_id = ?1 AND (?2 IS NULL OR resource_type = ?2) \
                 ORDER BY resource_type, resource_id, slug",
            )
            .map_err(db(path))?;
        let mut rows = stmt.query(params![sync_id, resource_type]).map_err(db(path))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db(path))? {
            let g = |e| StoreError::db(path, e);
            let resource = ResourceRef { resource_type: row.get(0).map_err(g)?, id: row.get(1).map_err(g)? };
            let slug: String = row.get(2).map_err(g)?;
            let purpose: String = row.get(4).map_err(g)?;
            let purpose = Purpose::parse(&purpose).ok_or_else(|| {
                StoreError::corrupt(path, format!("entitlement {resource}:{slug} has purpose {purpose:?}"))
            })?;
            let grantable_to: String = row.get(5).map_err(g)?;
            out.push(Entitlement {
                display_name: row.get(3).map_err(g)?,
                purpose,
                grantable_to: parse_json(&grantable_to, "grantable_to", path)?,
                resource,
                slug,
            });
        }
        Ok(out)
    }

    /// The grants of a sync (optionally of entitlements on resources of one type), ordered by
    /// entitlement and principal.
    pub fn grants(&self, sync_id: i64, resource_type: Option<&str>) -> Result<Vec<Grant>, StoreError> {
        self.sync_exists(sync_id)?;
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ent_resource_type, ent_resource_id, slug, principal_type, principal_id \
                 FROM grants WHERE sync_id = ?1 AND (?2 IS NULL OR ent_resource_type = ?2) \
                 ORDER BY ent_resource_type, ent_resource_id, slug, principal_type, principal_id",
            )
            .map_err(db(path))?;
        let rows = stmt.query_map(params![sync_id, resource_type], grant_from_row).map_err(db(path))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db(path))
    }

    /// The findings of a sync, in the order they were made.
    pub fn findings(&self, sync_id: i64) -> Result<Vec<Finding>, StoreError> {
        self.sync_exists(sync_id)?;
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, subject, detail FROM findings WHERE sync_id = ?1 ORDER BY seq")
            .map_err(db(path))?;
        let rows = stmt
            .query_map(params![sync_id], |r| Ok(Finding { kind: r.get(0)?, subject: r.get(1)?, detail: r.get(2)? }))
            .map_err(db(path))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db(path))
    }

    /// How many records a sync holds: stored at finish, counted live while running.
    pub fn counts(&self, sync_id: i64) -> Result<Counts, StoreError> {
        match self.sync(sync_id)? {
            Some(info) => Ok(info.counts),
            None => Err(StoreError::SyncNotFound { path: self.path.clone(), id: sync_id }),
        }
    }

    /// What changed from sync `a` to sync `b`, computed by the database.
    pub fn diff(&self, a: i64, b: i64) -> Result<SyncDiff, StoreError> {
        self.sync_exists(a)?;
        self.sync_exists(b)?;
        let path = &self.path;
        let conn = &self.conn;
        let only_in_second = "SELECT resource_type, id FROM resources WHERE sync_id = ?2 \
             EXCEPT SELECT resource_type, id FROM resources WHERE sync_id = ?1 \
             ORDER BY 1, 2";
        let changed = "SELECT b.resource_type, b.id FROM resources a \
             JOIN resources b ON b.sync_id = ?2 AND b.resource_type = a.resource_type AND b.id = a.id \
             WHERE a.sync_id = ?1 AND ( \
               a.display_name IS DISTINCT FROM b.display_name \
               OR a.status IS DISTINCT FROM b.status \
               OR a.is_user IS DISTINCT FROM b.is_user \
               OR a.account_type IS DISTINCT FROM b.account_type \
               OR a.login IS DISTINCT FROM b.login \
               OR a.emails IS DISTINCT FROM b.emails \
               OR a.last_login IS DISTINCT FROM b.last_login \
               OR a.mfa IS DISTINCT FROM b.mfa \
               OR a.is_secret IS DISTINCT FROM b.is_secret \
               OR a.secret_kind IS DISTINCT FROM b.secret_kind \
               OR a.secret_owner_type IS DISTINCT FROM b.secret_owner_type \
               OR a.secret_owner_id IS DISTINCT FROM b.secret_owner_id \
               OR a.secret_created_at IS DISTINCT FROM b.secret_created_at \
               OR a.secret_expires_at IS DISTINCT FROM b.secret_expires_at \
               OR a.secret_last_used_at IS DISTINCT FROM b.secret_last_used_at) \
             ORDER BY 1, 2";
        let grants_only_in_second = "SELECT ent_resource_type, ent_resource_id, slug, principal_type, principal_id \
             FROM grants WHERE sync_id = ?2 \
             EXCEPT SELECT ent_resource_type, ent_resource_id, slug, principal_type, principal_id \
             FROM grants WHERE sync_id = ?1 \
             ORDER BY 1, 2, 3, 4, 5";
        let grants = |x: i64, y: i64| -> Result<Vec<Grant>, StoreError> {
            let mut stmt = conn.prepare_cached(grants_only_in_second).map_err(db(path))?;
            let rows = stmt.query_map(params![x, y], grant_from_row).map_err(db(path))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db(path))
        };
        Ok(SyncDiff {
            from: a,
            to: b,
            resources_added: refs(conn, only_in_second, a, b, path)?,
            resources_removed: refs(conn, only_in_second, b, a, path)?,
            resources_changed: refs(conn, changed, a, b, path)?,
            grants_added: grants(a, b)?,
            grants_removed: grants(b, a)?,
        })
    }

    /// Does a sync exist? (Used by callers that want a clear error before reading.)
    pub fn has_sync(&self, id: i64) -> Result<bool, StoreError> {
        let found: Option<i64> = self
            .conn
            .query_row("SELECT id FROM syncs WHERE id = ?1", params![id], |r| r.get(0))
            .optional()
            .map_err(db(&self.path))?;
        Ok(found.is_some())
    }
}
