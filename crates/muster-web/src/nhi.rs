//! Non-human identities: service and system accounts, and credentials (secret-trait resources), with risk
//! flags computed against an injected "now".
//!
//! ## The flags
//! | code | applies to | rule |
//! |---|---|---|
//! | `expired` | credentials | `expires_at` is before now, yet the credential is still in the current snapshot |
//! | `never_used` | both | no `last_used_at` (credential) / no `last_login` (account) |
//! | `unused_90d` | both | the last use is more than 90 days before now |
//! | `long_lifetime` | credentials | `expires_at − created_at` is over 365 days, or the credential never expires |
//! | `no_owner` | both | a credential without an owner, whose owner is not in the snapshot, or whose owner is disabled or deleted; an account whose profile names no `owner` (nor `owner_id`, `owner_email`, `manager`) |
//! | `human_login` | accounts | a service/system account that looks like a person signs in with it: MFA is enabled (machines authenticate with keys and tokens, not second factors), or it has a mailbox *and* an interactive sign-in (`last_login`) within the last 90 days |

use crate::queries::NhiRow;
use chrono::{DateTime, NaiveDate, Utc};
use muster_model::{AccountType, Status};
use serde::Serialize;

/// Days of inactivity after which a credential or account counts as unused.
pub const UNUSED_DAYS: i64 = 90;
/// The longest acceptable credential lifetime.
pub const MAX_LIFETIME_DAYS: i64 = 365;

/// Every flag code with its label, in display order.
pub const FLAGS: &[(&str, &str)] = &[
    ("expired", "expired but present"),
    ("never_used", "never used"),
    ("unused_90d", "unused for 90 days"),
    ("long_lifetime", "lifetime over a year"),
    ("no_owner", "no owner"),
    ("human_login", "human-style login"),
];

/// One risk flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub code: &'static str,
    pub label: &'static str,
    pub detail: String,
}

fn flag(code: &'static str, detail: String) -> Flag {
    let label = FLAGS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or(code);
    Flag { code, label, detail }
}

/// A non-human identity with its assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nhi {
    pub connector: String,
    pub sync_id: i64,
    pub resource_type: String,
    pub id: String,
    pub display_name: Option<String>,
    /// `service account`, `system account`, or the credential kind (`token`, `api_key`, …).
    pub kind: String,
    pub is_credential: bool,
    pub status: String,
    /// `type:id` of the owner, when one is known.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub created_at: Option<String>,
    pub age_days: Option<i64>,
    pub expires_at: Option<String>,
    /// The last use: `last_used_at` of a credential, `last_login` of an account.
    pub last_used: Option<String>,
    pub mfa: Option<bool>,
    pub flags: Vec<Flag>,
}

/// Parse RFC 3339, or a bare date (midnight UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

fn days_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_days()
}

fn profile_str(p: &serde_json::Map<String, serde_json::Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match p.get(*k) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(serde_json::Value::Object(o)) if !o.is_empty() => Some(serde_json::Value::Object(o.clone()).to_string()),
        _ => None,
    })
}

fn usage_flags(last: Option<&str>, now: DateTime<Utc>, what: &str, flags: &mut Vec<Flag>) {
    match last {
        None => flags.push(flag("never_used", format!("no {what} recorded"))),
        Some(t) => {
            if let Some(at) = parse_time(t) {
                let idle = days_between(at, now);
                if idle > UNUSED_DAYS {
                    flags.push(flag("unused_90d", format!("last {what} {idle} days ago")));
                }
            }
        }
    }
}

/// Assess one row against `now`.
pub fn assess(row: &NhiRow, now: DateTime<Utc>) -> Nhi {
    let r = &row.resource;
    let mut flags = Vec::new();
    let mut nhi = Nhi {
        connector: row.connector.clone(),
        sync_id: row.sync_id,
        resource_type: r.resource_type.clone(),
        id: r.id.clone(),
        display_name: r.display_name.clone(),
        kind: String::new(),
        is_credential: false,
        status: r.status.as_str().to_string(),
        owner: None,
        owner_name: None,
        created_at: None,
        age_days: None,
        expires_at: None,
        last_used: None,
        mfa: None,
        flags: Vec::new(),
    };
    if let Some(s) = &r.secret {
        nhi.is_credential = true;
        nhi.kind = s.kind.clone().unwrap_or_else(|| "secret".into());
        nhi.created_at = s.created_at.clone();
        nhi.expires_at = s.expires_at.clone();
        nhi.last_used = s.last_used_at.clone();
        nhi.owner = s.owner.as_ref().map(|o| o.to_string());
        if let Some(exp) = s.expires_at.as_deref().and_then(parse_time)
            && exp < now
            && r.status != Status::Deleted
        {
            flags.push(flag("expired", format!("expired {} days ago", days_between(exp, now))));
        }
        usage_flags(s.last_used_at.as_deref(), now, "use", &mut flags);
        let created = s.created_at.as_deref().and_then(parse_time);
        match (created, s.expires_at.as_deref().and_then(parse_time)) {
            (_, None) if s.expires_at.is_none() => flags.push(flag("long_lifetime", "never expires".into())),
            (Some(c), Some(e)) if days_between(c, e) > MAX_LIFETIME_DAYS => {
                flags.push(flag("long_lifetime", format!("valid for {} days", days_between(c, e))))
            }
            _ => {}
        }
        match (&s.owner, &row.owner_found) {
            (None, _) => flags.push(flag("no_owner", "no owner recorded".into())),
            (Some(o), None) => flags.push(flag("no_owner", format!("owner {o} is not in this snapshot"))),
            (Some(o), Some((name, status))) => {
                nhi.owner_name = name.clone();
                if status != "enabled" && status != "unknown" {
                    flags.push(flag("no_owner", format!("owner {o} is {status}")));
                }
            }
        }
    } else if let Some(u) = &r.user {
        nhi.kind = match u.account_type {
            Some(AccountType::System) => "system account".into(),
            _ => "service account".into(),
        };
        nhi.last_used = u.last_login.clone();
        nhi.mfa = u.mfa;
        nhi.created_at = profile_str(&r.profile, &["created_at", "createdAt", "created"]);
        nhi.owner = profile_str(&r.profile, &["owner", "owner_id", "owner_email", "manager"]);
        usage_flags(u.last_login.as_deref(), now, "login", &mut flags);
        if nhi.owner.is_none() {
            flags.push(flag("no_owner", "the account's profile names no owner".into()));
        }
        let recent_login =
            u.last_login.as_deref().and_then(parse_time).is_some_and(|t| days_between(t, now) <= UNUSED_DAYS);
        if u.mfa == Some(true) {
            flags.push(flag("human_login", "MFA is enabled: someone signs in interactively".into()));
        } else if recent_login && !u.emails.is_empty() {
            flags.push(flag("human_login", "has a mailbox and signed in interactively in the last 90 days".into()));
        }
    }
    nhi.age_days = nhi.created_at.as_deref().and_then(parse_time).map(|c| days_between(c, now));
    nhi.flags = flags;
    nhi
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_model::{Resource, ResourceRef, SecretTraits, UserTraits};

    fn now() -> DateTime<Utc> {
        parse_time("2026-11-01T00:00:00Z").unwrap()
    }

    fn secret(created: &str, expires: Option<&str>, used: Option<&str>, owner: bool) -> NhiRow {
        NhiRow {
            connector: "c".into(),
            sync_id: 1,
            resource: Resource {
                resource_type: "api_token".into(),
                id: "t1".into(),
                parent: None,
                display_name: Some("deploy".into()),
                description: None,
                status: Status::Enabled,
                user: None,
                secret: Some(SecretTraits {
                    kind: Some("token".into()),
                    owner: owner.then(|| ResourceRef { resource_type: "user".into(), id: "u1".into() }),
                    created_at: Some(created.into()),
                    expires_at: expires.map(str::to_string),
                    last_used_at: used.map(str::to_string),
                }),
                profile: Default::default(),
            },
            owner_found: owner.then(|| (Some("Ann".into()), "enabled".into())),
        }
    }

    fn codes(n: &Nhi) -> Vec<&str> {
        n.flags.iter().map(|f| f.code).collect()
    }

    #[test]
    fn healthy_token_has_no_flags() {
        let n = assess(&secret("2026-06-01T00:00:00Z", Some("2026-12-01T00:00:00Z"), Some("2026-10-30"), true), now());
        assert!(n.flags.is_empty(), "{:?}", n.flags);
        assert_eq!(n.age_days, Some(153));
        assert_eq!(n.owner_name.as_deref(), Some("Ann"));
    }

    #[test]
    fn token_flags() {
        let n = assess(&secret("2023-01-01T00:00:00Z", Some("2026-01-01T00:00:00Z"), None, false), now());
        assert_eq!(codes(&n), ["expired", "never_used", "long_lifetime", "no_owner"]);
        let n = assess(&secret("2026-01-01T00:00:00Z", None, Some("2026-05-01T00:00:00Z"), true), now());
        assert_eq!(codes(&n), ["unused_90d", "long_lifetime"]);
        let mut dangling = secret("2026-06-01T00:00:00Z", Some("2026-12-01T00:00:00Z"), Some("2026-10-30"), true);
        dangling.owner_found = None;
        assert_eq!(codes(&assess(&dangling, now())), ["no_owner"]);
    }

    #[test]
    fn service_account_flags() {
        let mut row = secret("2026-01-01T00:00:00Z", None, None, false);
        row.resource.secret = None;
        row.resource.user = Some(UserTraits {
            emails: vec!["svc@example.com".into()],
            login: Some("svc".into()),
            account_type: Some(AccountType::Service),
            last_login: Some("2026-10-20T00:00:00Z".into()),
            mfa: Some(false),
        });
        assert_eq!(codes(&assess(&row, now())), ["no_owner", "human_login"]);
        row.resource.profile.insert("owner".into(), "ops@example.com".into());
        if let Some(u) = row.resource.user.as_mut() {
            u.emails.clear();
            u.mfa = Some(true);
            u.last_login = None;
        }
        let n = assess(&row, now());
        assert_eq!(codes(&n), ["never_used", "human_login"]);
        assert_eq!(n.kind, "service account");
        assert_eq!(n.owner.as_deref(), Some("ops@example.com"));
    }
}
