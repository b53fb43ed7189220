//! Read queries the store does not offer, on a read-only connection to the same database: the inventory
//! across each connector's *current* snapshot (newest completed sync), paginated in SQL, an identity with
//! its grants, and the non-human identities.
//!
//! Every query is bounded by a sync id, i.e. a range scan of the `(sync_id, …)` primary keys; the
//! inventory uses `LIMIT`/`OFFSET` and never loads a whole snapshot.

use muster_model::{AccountType, Resource, ResourceRef, SecretTraits, Status, UserTraits};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// Each connector's current snapshot.
const CURRENT: &str = "cur(connector, sync_id) AS (\
     SELECT connector, MAX(id) FROM syncs WHERE status = 'completed' GROUP BY connector)";

const RESOURCE_COLUMNS: &str = "r.resource_type, r.id, r.parent_type, r.parent_id, r.display_name, r.description, \
     r.status, r.is_user, r.account_type, r.login, r.emails, r.last_login, r.mfa, r.is_secret, r.secret_kind, \
     r.secret_owner_type, r.secret_owner_id, r.secret_created_at, r.secret_expires_at, r.secret_last_used_at, \
     r.profile";

/// The largest page the inventory serves.
pub const MAX_PER_PAGE: u32 = 500;

/// Which identities to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InventoryFilter {
    /// `human`, `service`, `system`, or `unknown` (no account type mapped).
    pub account_type: Option<String>,
    /// `enabled`, `disabled`, `deleted` or `unknown`.
    pub status: Option<String>,
    pub connector: Option<String>,
    /// Substring of the id, display name, login or an email (case-insensitive for ASCII).
    pub q: Option<String>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

/// One row of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub connector: String,
    pub sync_id: i64,
    pub resource_type: String,
    pub id: String,
    pub display_name: Option<String>,
    pub status: String,
    pub account_type: Option<String>,
    pub login: Option<String>,
    pub emails: Vec<String>,
    pub last_login: Option<String>,
    pub mfa: Option<bool>,
}

/// One page of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryPage {
    pub filter: InventoryFilter,
    /// Identities matching the filter, on all pages.
    pub total: u64,
    pub pages: u64,
    pub items: Vec<Identity>,
}

fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn emails(text: Option<String>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// One page of identities (resources with the user trait) across the current snapshots.
pub fn inventory(conn: &Connection, f: &InventoryFilter) -> rusqlite::Result<InventoryPage> {
    let type_null = f.account_type.as_deref() == Some("unknown");
    let account_type = if type_null { None } else { f.account_type.as_deref() };
    let q = f.q.as_deref().filter(|q| !q.is_empty()).map(like_pattern);
    let filter = "FROM cur JOIN resources r ON r.sync_id = cur.sync_id \
         WHERE r.is_user = 1 \
           AND (?1 IS NULL OR r.account_type = ?1) AND (?2 = 0 OR r.account_type IS NULL) \
           AND (?3 IS NULL OR r.status = ?3) \
           AND (?4 IS NULL OR cur.connector = ?4) \
           AND (?5 IS NULL OR r.id LIKE ?5 ESCAPE '\\' OR r.display_name LIKE ?5 ESCAPE '\\' \
                OR r.login LIKE ?5 ESCAPE '\\' OR r.emails LIKE ?5 ESCAPE '\\')";
    let total: i64 = conn
        .prepare_cached(&format!("WITH {CURRENT} SELECT COUNT(*) {filter}"))?
        .query_row(params![account_type, type_null, f.status, f.connector, q], |r| r.get(0))?;
    let per_page = f.per_page.clamp(1, MAX_PER_PAGE);
    let offset = (i64::from(f.page.max(1)) - 1) * i64::from(per_page);
    let mut stmt = conn.prepare_cached(&format!(
        "WITH {CURRENT} SELECT cur.connector, cur.sync_id, r.resource_type, r.id, r.display_name, r.status, \
         r.account_type, r.login, r.emails, r.last_login, r.mfa {filter} \
         ORDER BY cur.connector, r.resource_type, r.id LIMIT ?6 OFFSET ?7"
    ))?;
    let items = stmt
        .query_map(params![account_type, type_null, f.status, f.connector, q, per_page, offset], |r| {
            Ok(Identity {
                connector: r.get(0)?,
                sync_id: r.get(1)?,
                resource_type: r.get(2)?,
                id: r.get(3)?,
                display_name: r.get(4)?,
                status: r.get(5)?,
                account_type: r.get(6)?,
                login: r.get(7)?,
                emails: emails(r.get(8)?),
                last_login: r.get(9)?,
                mfa: r.get(10)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = total.max(0) as u64;
    Ok(InventoryPage {
        filter: InventoryFilter { per_page, ..f.clone() },
        total,
        pages: total.div_ceil(u64::from(per_page)),
        items,
    })
}

/// Connectors with a current snapshot: (name, sync id), sorted by name.
pub fn current_syncs(conn: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(&format!("WITH {CURRENT} SELECT connector, sync_id FROM cur ORDER BY 1"))?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The current snapshot of one connector.
pub fn current_sync(conn: &Connection, connector: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT MAX(id) FROM syncs WHERE connector = ?1 AND status = 'completed'", params![connector], |r| {
        r.get::<_, Option<i64>>(0)
    })
}

fn opt_ref(t: Option<String>, id: Option<String>) -> Option<ResourceRef> {
    match (t, id) {
        (Some(resource_type), Some(id)) => Some(ResourceRef { resource_type, id }),
        _ => None,
    }
}

/// A resource from `RESOURCE_COLUMNS` starting at column `o`.
fn resource_at(r: &Row<'_>, o: usize) -> rusqlite::Result<Resource> {
    let status: String = r.get(o + 6)?;
    let user = if r.get::<_, bool>(o + 7)? {
        Some(UserTraits {
            emails: emails(r.get(o + 10)?),
            login: r.get(o + 9)?,
            account_type: r.get::<_, Option<String>>(o + 8)?.as_deref().and_then(AccountType::parse),
            last_login: r.get(o + 11)?,
            mfa: r.get(o + 12)?,
        })
    } else {
        None
    };
    let secret = if r.get::<_, bool>(o + 13)? {
        Some(SecretTraits {
            kind: r.get(o + 14)?,
            owner: opt_ref(r.get(o + 15)?, r.get(o + 16)?),
            created_at: r.get(o + 17)?,
            expires_at: r.get(o + 18)?,
            last_used_at: r.get(o + 19)?,
        })
    } else {
        None
    };
    let profile = r
        .get::<_, Option<String>>(o + 20)?
        .and_then(|t| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&t).ok())
        .unwrap_or_default();
    Ok(Resource {
        resource_type: r.get(o)?,
        id: r.get(o + 1)?,
        parent: opt_ref(r.get(o + 2)?, r.get(o + 3)?),
        display_name: r.get(o + 4)?,
        description: r.get(o + 5)?,
        status: Status::parse(&status).unwrap_or(Status::Unknown),
        user,
        secret,
        profile,
    })
}

/// One resource of a sync.
pub fn resource(conn: &Connection, sync_id: i64, rtype: &str, id: &str) -> rusqlite::Result<Option<Resource>> {
    conn.prepare_cached(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources r WHERE r.sync_id = ?1 AND r.resource_type = ?2 AND r.id = ?3"
    ))?
    .query_row(params![sync_id, rtype, id], |r| resource_at(r, 0))
    .optional()
}

/// The display name of a resource of a sync, if it is there.
pub fn display_name(conn: &Connection, sync_id: i64, rtype: &str, id: &str) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT display_name FROM resources WHERE sync_id = ?1 AND resource_type = ?2 AND id = ?3")?
        .query_row(params![sync_id, rtype, id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// A grant a principal holds, with names resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldGrant {
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub slug: String,
    pub entitlement_name: Option<String>,
    /// `assignment`, `permission`, `ownership`; `None` when the entitlement was not synced.
    pub purpose: Option<String>,
    /// For inherited grants: the group (or other principal) it comes through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<ResourceRef>,
}

/// The grants held directly by a principal in a sync.
pub fn grants_of(conn: &Connection, sync_id: i64, ptype: &str, pid: &str) -> rusqlite::Result<Vec<HeldGrant>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.ent_resource_type, g.ent_resource_id, res.display_name, g.slug, e.display_name, e.purpose \
         FROM grants g \
         LEFT JOIN entitlements e ON e.sync_id = g.sync_id AND e.resource_type = g.ent_resource_type \
              AND e.resource_id = g.ent_resource_id AND e.slug = g.slug \
         LEFT JOIN resources res ON res.sync_id = g.sync_id AND res.resource_type = g.ent_resource_type \
              AND res.id = g.ent_resource_id \
         WHERE g.sync_id = ?1 AND g.principal_type = ?2 AND g.principal_id = ?3 \
         ORDER BY g.ent_resource_type, g.ent_resource_id, g.slug",
    )?;
    let rows = stmt.query_map(params![sync_id, ptype, pid], |r| {
        Ok(HeldGrant {
            resource_type: r.get(0)?,
            resource_id: r.get(1)?,
            resource_name: r.get(2)?,
            slug: r.get(3)?,
            entitlement_name: r.get(4)?,
            purpose: r.get(5)?,
            via: None,
        })
    })?;
    rows.collect()
}

/// Grants that reach a principal through the principals it is a member of (one level): for each direct
/// grant that is not an ownership, the grants held by the entitlement's resource itself (e.g. a role
/// assigned to a group the user belongs to).
pub fn inherited_grants(conn: &Connection, sync_id: i64, direct: &[HeldGrant]) -> rusqlite::Result<Vec<HeldGrant>> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for g in direct.iter().filter(|g| g.purpose.as_deref() != Some("ownership")) {
        if !seen.insert((g.resource_type.clone(), g.resource_id.clone())) {
            continue;
        }
        for mut h in grants_of(conn, sync_id, &g.resource_type, &g.resource_id)? {
            h.via = Some(ResourceRef { resource_type: g.resource_type.clone(), id: g.resource_id.clone() });
            out.push(h);
        }
    }
    Ok(out)
}

/// A credential owned by a principal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnedSecret {
    pub resource_type: String,
    pub id: String,
    pub display_name: Option<String>,
    pub kind: Option<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// The credentials (secret-trait resources) a principal owns in a sync.
pub fn owned_secrets(conn: &Connection, sync_id: i64, ptype: &str, pid: &str) -> rusqlite::Result<Vec<OwnedSecret>> {
    let mut stmt = conn.prepare_cached(
        "SELECT resource_type, id, display_name, secret_kind, secret_expires_at, secret_last_used_at \
         FROM resources WHERE sync_id = ?1 AND is_secret = 1 AND secret_owner_type = ?2 AND secret_owner_id = ?3 \
         ORDER BY resource_type, id",
    )?;
    let rows = stmt.query_map(params![sync_id, ptype, pid], |r| {
        Ok(OwnedSecret {
            resource_type: r.get(0)?,
            id: r.get(1)?,
            display_name: r.get(2)?,
            kind: r.get(3)?,
            expires_at: r.get(4)?,
            last_used_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// A non-human identity candidate as read: the resource, its connector and sync, and what the snapshot says
/// about its owner.
#[derive(Debug, Clone, PartialEq)]
pub struct NhiRow {
    pub connector: String,
    pub sync_id: i64,
    pub resource: Resource,
    /// The owner's display name and status, when the owner is in the same snapshot.
    pub owner_found: Option<(Option<String>, String)>,
}

/// Service and system accounts and secret-trait resources of the current snapshots (optionally of one
/// connector), ordered by connector, type and id.
pub fn nhi_rows(conn: &Connection, connector: Option<&str>) -> rusqlite::Result<Vec<NhiRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "WITH {CURRENT} SELECT cur.connector, cur.sync_id, {RESOURCE_COLUMNS}, o.id, o.display_name, o.status \
         FROM cur JOIN resources r ON r.sync_id = cur.sync_id \
         LEFT JOIN resources o ON o.sync_id = r.sync_id AND o.resource_type = r.secret_owner_type \
              AND o.id = r.secret_owner_id \
         WHERE (?1 IS NULL OR cur.connector = ?1) \
           AND ((r.is_user = 1 AND r.account_type IN ('service', 'system')) OR r.is_secret = 1) \
         ORDER BY cur.connector, r.resource_type, r.id"
    ))?;
    let rows = stmt.query_map(params![connector], |r| {
        let owner_id: Option<String> = r.get(23)?;
        Ok(NhiRow {
            connector: r.get(0)?,
            sync_id: r.get(1)?,
            resource: resource_at(r, 2)?,
            owner_found: match owner_id {
                Some(_) => Some((r.get(24)?, r.get(25)?)),
                None => None,
            },
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
