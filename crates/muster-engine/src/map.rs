//! Rows → records. Every mapped value is a compiled CEL expression evaluated over the row.
//!
//! Null semantics: a field absent from the row (`item.x` where the row has no `x`) and a field present
//! but `null` both produce "no value" in the record; [`Coverage`] counts them separately, so a mapping
//! that never matches the data (a typo) is visible as 100% *missing*, not as a quiet null.

use muster_expr::{EvalError, Expr, Scope};
use muster_model::{AccountType, Entitlement, Grant, Resource, ResourceRef, SecretTraits, Status, UserTraits};
use muster_spec::compile::{GrantsC, MapC, ResourceTypeC};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a row could not be mapped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{resource_type}: row {row}: `{field}`: {message}")]
pub struct MapError {
    pub resource_type: String,
    /// Position of the row in its page listing (0-based), for finding it in the response.
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// Per-field counts of present / null / missing values.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldCount {
    pub present: u64,
    pub null: u64,
    pub missing: u64,
    /// Up to a few distinct values seen, to spot constants.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub samples: Vec<String>,
    /// True once more than the sampled number of distinct values was seen.
    #[serde(default)]
    pub varied: bool,
}

/// Rows seen with one value of a state-like field, and how many of them became records.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateCount {
    pub rows: u64,
    pub kept: u64,
}

/// Field coverage of one resource type (or grants listing).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    pub rows: u64,
    pub skipped: u64,
    pub fields: BTreeMap<String, FieldCount>,
    /// Values of state-like fields of the raw rows (`state`, `status`, ...), whatever the mapping reads: lets
    /// `muster test` notice pending invitations counted as grants.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub states: BTreeMap<String, BTreeMap<String, StateCount>>,
}

/// Raw-row fields whose values tell real rows from pending or invited ones.
const STATE_FIELDS: &[&str] = &[
    "state",
    "status",
    "membership_state",
    "membershipState",
    "invitation_status",
    "invitationStatus",
    "invite_status",
];

impl Coverage {
    /// Remember the state-like values of a raw row; returns the keys noted, to mark them kept later.
    fn note_states(&mut self, item: &Value) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        let Some(obj) = item.as_object() else { return seen };
        for f in STATE_FIELDS {
            if let Some(Value::String(v)) = obj.get(*f) {
                let per = self.states.entry((*f).to_string()).or_default();
                if per.len() < 20 || per.contains_key(v) {
                    per.entry(v.clone()).or_default().rows += 1;
                    seen.push(((*f).to_string(), v.clone()));
                }
            }
        }
        seen
    }

    fn mark_kept(&mut self, seen: &[(String, String)]) {
        for (f, v) in seen {
            if let Some(c) = self.states.get_mut(f).and_then(|m| m.get_mut(v)) {
                c.kept += 1;
            }
        }
    }
}

impl Coverage {
    fn note(&mut self, field: &str, v: &Result<Value, EvalError>) {
        if !self.fields.contains_key(field) {
            self.fields.insert(field.to_string(), FieldCount::default());
        }
        let Some(c) = self.fields.get_mut(field) else { return };
        match v {
            Ok(Value::Null) => c.null += 1,
            Ok(v) => {
                c.present += 1;
                if !c.varied {
                    let s = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if !c.samples.contains(&s) {
                        if c.samples.len() >= 3 {
                            c.varied = true;
                        } else {
                            c.samples.push(s.chars().take(60).collect());
                        }
                    }
                }
            }
            Err(EvalError::Missing { .. }) => c.missing += 1,
            Err(_) => {}
        }
    }

    pub fn merge(&mut self, other: &Coverage) {
        self.rows += other.rows;
        self.skipped += other.skipped;
        for (f, vals) in &other.states {
            let per = self.states.entry(f.clone()).or_default();
            for (v, c) in vals {
                let e = per.entry(v.clone()).or_default();
                e.rows += c.rows;
                e.kept += c.kept;
            }
        }
        for (k, v) in &other.fields {
            let c = self.fields.entry(k.clone()).or_default();
            c.present += v.present;
            c.null += v.null;
            c.missing += v.missing;
            for s in &v.samples {
                if !c.samples.contains(s) {
                    if c.samples.len() >= 3 {
                        c.varied = true;
                    } else {
                        c.samples.push(s.clone());
                    }
                }
            }
            c.varied |= v.varied;
        }
    }
}

/// Evaluation context shared by every row of a listing.
pub struct Ctx<'a> {
    pub resource_type: &'a str,
    pub vars: &'a Value,
    /// The resource a grants listing is for (`resource` in expressions).
    pub resource: Option<&'a Value>,
    /// For grants: the types a principal may have.
    pub grantable_to: Option<&'a [String]>,
}

fn eval(e: &Expr, scope: &Scope<'_>) -> Result<Value, EvalError> {
    e.eval(scope)
}

fn err(ctx: &Ctx<'_>, row: usize, field: &str, message: String) -> MapError {
    MapError { resource_type: ctx.resource_type.to_string(), row, field: field.to_string(), message }
}

fn fail_message(e: &EvalError) -> Option<String> {
    match e {
        EvalError::Missing { .. } => None,
        EvalError::Failed { message } => Some(message.clone()),
    }
}

/// A value as a string, or None for null/missing. Numbers and booleans are written out.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Normalise a time value (RFC 3339 string, epoch seconds or milliseconds) to RFC 3339 UTC.
pub fn normalize_time(v: &Value) -> Result<Option<String>, String> {
    use chrono::{DateTime, TimeZone, Utc};
    let from_epoch = |n: f64| -> Result<Option<String>, String> {
        let secs = if n.abs() > 1e11 { n / 1000.0 } else { n };
        Utc.timestamp_opt(secs.trunc() as i64, 0)
            .single()
            .map(|t| Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
            .ok_or_else(|| format!("{n} is not a valid epoch time"))
    };
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => from_epoch(n.as_f64().unwrap_or(0.0)),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(Some(t.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            }
            if let Ok(n) = s.parse::<f64>() {
                return from_epoch(n);
            }
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
                return Ok(Some(t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            }
            if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return Ok(d
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            }
            Err(format!("`{s}` is not a time (expected RFC 3339 or epoch seconds); use parse_time(x, 'format')"))
        }
        other => Err(format!("{other} is not a time")),
    }
}

/// Map one row of a list response. `Ok(None)` when `skip_if` skipped it.
pub fn map_resource(
    rt: &ResourceTypeC,
    item: &Value,
    row: usize,
    ctx: &Ctx<'_>,
    cov: &mut Coverage,
) -> Result<Option<Resource>, MapError> {
    let scope = Scope::new().with("item", item).with("vars", ctx.vars);
    cov.rows += 1;
    if let Some(skip) = &rt.list.skip_if {
        match eval(skip, &scope) {
            Ok(Value::Bool(true)) => {
                cov.skipped += 1;
                return Ok(None);
            }
            Ok(Value::Bool(false)) | Ok(Value::Null) | Err(EvalError::Missing { .. }) => {}
            Ok(other) => return Err(err(ctx, row, "skip_if", format!("must be true or false, got {other}"))),
            Err(EvalError::Failed { message }) => return Err(err(ctx, row, "skip_if", message)),
        }
    }
    map_fields(&rt.list.map, &rt.id, &scope, row, ctx, cov).map(Some)
}

fn map_fields(
    m: &MapC,
    type_id: &str,
    scope: &Scope<'_>,
    row: usize,
    ctx: &Ctx<'_>,
    cov: &mut Coverage,
) -> Result<Resource, MapError> {
    let id_eval = eval(&m.id, scope);
    cov.note("id", &id_eval);
    let id = match id_eval {
        Ok(v) => match as_text(&v) {
            Some(s) if !s.is_empty() => s,
            _ => {
                return Err(err(
                    ctx,
                    row,
                    "id",
                    format!("`{}` gave {v}; every resource needs a stable id", m.id.source()),
                ));
            }
        },
        Err(EvalError::Missing { path }) => {
            return Err(err(
                ctx,
                row,
                "id",
                format!("the row has no `{path}`; check the mapping against the response"),
            ));
        }
        Err(EvalError::Failed { message }) => return Err(err(ctx, row, "id", message)),
    };
    let mut field = |name: &str, e: Option<&Expr>| -> Result<Value, MapError> {
        let Some(e) = e else { return Ok(Value::Null) };
        let v = eval(e, scope);
        cov.note(name, &v);
        match v {
            Ok(v) => Ok(v),
            Err(e) => match fail_message(&e) {
                Some(msg) => Err(err(ctx, row, name, msg)),
                None => Ok(Value::Null),
            },
        }
    };
    let display_name = as_text(&field("display_name", m.display_name.as_ref())?);
    let description = as_text(&field("description", m.description.as_ref())?);
    let status = match field("status", m.status.as_ref())? {
        Value::Null if m.status.is_none() => Status::Enabled,
        Value::Null => Status::Unknown,
        Value::String(s) => Status::parse(&s).ok_or_else(|| {
            err(
                ctx,
                row,
                "status",
                format!("`{s}` is not enabled, disabled or deleted; map the source's value onto one of them"),
            )
        })?,
        other => {
            return Err(err(ctx, row, "status", format!("must be 'enabled', 'disabled' or 'deleted', got {other}")));
        }
    };
    let parent = match &m.parent {
        Some(p) => as_text(&field("parent.id", Some(&p.id))?)
            .map(|id| ResourceRef { resource_type: p.resource_type.clone(), id }),
        None => None,
    };
    let user = match &m.user {
        Some(u) => {
            let mut emails = Vec::new();
            if let Some(e) = as_text(&field("user.email", u.email.as_ref())?)
                && !e.is_empty()
            {
                emails.push(e);
            }
            match field("user.emails", u.emails.as_ref())? {
                Value::Array(a) => {
                    for v in a {
                        if let Some(s) = as_text(&v)
                            && !s.is_empty()
                            && !emails.contains(&s)
                        {
                            emails.push(s);
                        }
                    }
                }
                Value::Null => {}
                other => {
                    if let Some(s) = as_text(&other)
                        && !emails.contains(&s)
                    {
                        emails.push(s);
                    }
                }
            }
            let login = as_text(&field("user.login", u.login.as_ref())?);
            let account_type = match field("user.account_type", u.account_type.as_ref())? {
                Value::Null => None,
                Value::String(s) => Some(AccountType::parse(&s).ok_or_else(|| {
                    err(ctx, row, "user.account_type", format!("`{s}` is not human, service or system"))
                })?),
                other => {
                    return Err(err(ctx, row, "user.account_type", format!("must be a string, got {other}")));
                }
            };
            let last_login = normalize_time(&field("user.last_login", u.last_login.as_ref())?)
                .map_err(|m| err(ctx, row, "user.last_login", m))?;
            let mfa = match field("user.mfa", u.mfa.as_ref())? {
                Value::Null => None,
                Value::Bool(b) => Some(b),
                other => return Err(err(ctx, row, "user.mfa", format!("must be true or false, got {other}"))),
            };
            Some(UserTraits { emails, login, account_type, last_login, mfa })
        }
        None => None,
    };
    let secret = match &m.secret {
        Some(s) => {
            let kind = as_text(&field("secret.kind", s.kind.as_ref())?);
            let owner = match &s.owner {
                Some(o) => as_text(&field("secret.owner.id", Some(&o.id))?)
                    .map(|id| ResourceRef { resource_type: o.resource_type.clone(), id }),
                None => None,
            };
            let t = |name: &str, v: Value| normalize_time(&v).map_err(|m| err(ctx, row, name, m));
            let created_at = t("secret.created_at", field("secret.created_at", s.created_at.as_ref())?)?;
            let expires_at = t("secret.expires_at", field("secret.expires_at", s.expires_at.as_ref())?)?;
            let last_used_at = t("secret.last_used_at", field("secret.last_used_at", s.last_used_at.as_ref())?)?;
            Some(SecretTraits { kind, owner, created_at, expires_at, last_used_at })
        }
        None => None,
    };
    let mut profile = serde_json::Map::new();
    for (k, e) in &m.profile {
        let v = field(&format!("profile.{k}"), Some(e))?;
        if !v.is_null() {
            profile.insert(k.clone(), v);
        }
    }
    Ok(Resource {
        resource_type: type_id.to_string(),
        id,
        parent,
        display_name,
        description,
        status,
        user,
        secret,
        profile,
    })
}

/// The JSON a resource is seen as in expressions and templates (`resource.id`, ...).
pub fn resource_value(r: &Resource) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), Value::String(r.id.clone()));
    m.insert("type".into(), Value::String(r.resource_type.clone()));
    m.insert("display_name".into(), r.display_name.clone().map(Value::String).unwrap_or(Value::Null));
    m.insert("parent_id".into(), r.parent.as_ref().map(|p| Value::String(p.id.clone())).unwrap_or(Value::Null));
    Value::Object(m)
}

/// The entitlements a resource of this type carries.
pub fn entitlements_for(rt: &ResourceTypeC, r: &Resource) -> Vec<Entitlement> {
    rt.entitlements
        .iter()
        .map(|e| Entitlement {
            resource: r.reference(),
            slug: e.slug.clone(),
            display_name: Some(match &r.display_name {
                Some(n) => format!("{} {}", n, e.display_name),
                None => e.display_name.clone(),
            }),
            purpose: e.purpose,
            grantable_to: e.grantable_to.clone(),
        })
        .collect()
}

/// Map one row of a grants listing for entitlement `slug` of `ctx.resource_type`. `resource_id` is the resource the listing was made for (per-resource
/// listings); for global listings it comes from `map.resource`. `Ok(None)` when skipped.
pub fn map_grant(
    g: &GrantsC,
    slug: &str,
    resource_id: Option<&str>,
    item: &Value,
    row: usize,
    ctx: &Ctx<'_>,
    cov: &mut Coverage,
) -> Result<Option<Grant>, MapError> {
    let mut scope = Scope::new().with("item", item).with("vars", ctx.vars);
    if let Some(r) = ctx.resource {
        scope = scope.with("resource", r);
    }
    cov.rows += 1;
    let states = cov.note_states(item);
    if let Some(skip) = &g.skip_if {
        match eval(skip, &scope) {
            Ok(Value::Bool(true)) => {
                cov.skipped += 1;
                return Ok(None);
            }
            Ok(Value::Bool(false)) | Ok(Value::Null) | Err(EvalError::Missing { .. }) => {}
            Ok(other) => return Err(err(ctx, row, "skip_if", format!("must be true or false, got {other}"))),
            Err(EvalError::Failed { message }) => return Err(err(ctx, row, "skip_if", message)),
        }
    }
    let pv = eval(&g.principal.id, &scope);
    cov.note("principal.id", &pv);
    let principal_id = match pv {
        Ok(v) => as_text(&v),
        Err(EvalError::Missing { path }) => {
            return Err(err(
                ctx,
                row,
                "principal.id",
                format!("the row has no `{path}`; check the mapping against the response"),
            ));
        }
        Err(EvalError::Failed { message }) => return Err(err(ctx, row, "principal.id", message)),
    }
    .ok_or_else(|| err(ctx, row, "principal.id", "the principal id is null".into()))?;
    let principal_type = match &g.principal_type_from {
        None => g.principal.resource_type.clone(),
        Some(e) => match eval(e, &scope) {
            Ok(Value::String(t)) => t,
            Ok(Value::Null) | Err(EvalError::Missing { .. }) => g.principal.resource_type.clone(),
            Ok(other) => return Err(err(ctx, row, "principal.type_from", format!("must give a type id, got {other}"))),
            Err(EvalError::Failed { message }) => return Err(err(ctx, row, "principal.type_from", message)),
        },
    };
    if let Some(allowed) = ctx.grantable_to
        && !allowed.iter().any(|a| a == &principal_type)
    {
        return Err(err(
            ctx,
            row,
            "principal.type_from",
            format!("`{principal_type}` is not one of grantable_to ({})", allowed.join(", ")),
        ));
    }
    let rid = match (&g.resource, resource_id) {
        (Some(e), _) => {
            let v = eval(e, &scope);
            cov.note("resource", &v);
            match v {
                Ok(v) => as_text(&v).ok_or_else(|| err(ctx, row, "resource", "the resource id is null".into()))?,
                Err(e) => {
                    return Err(err(
                        ctx,
                        row,
                        "resource",
                        fail_message(&e).unwrap_or_else(|| "missing in the row".into()),
                    ));
                }
            }
        }
        (None, Some(id)) => id.to_string(),
        (None, None) => return Err(err(ctx, row, "resource", "no resource for this grant".into())),
    };
    cov.mark_kept(&states);
    Ok(Some(Grant {
        entitlement: muster_model::EntitlementRef {
            resource: ResourceRef { resource_type: ctx.resource_type.to_string(), id: rid },
            slug: slug.to_string(),
        },
        principal: ResourceRef { resource_type: principal_type, id: principal_id },
    }))
}

/// The rows of a response body at a dotted `items` path (None = the body is the array).
pub fn rows<'a>(body: &'a Value, items: Option<&str>) -> Result<&'a [Value], String> {
    let target = match items {
        None => body,
        Some(p) => muster_http::lookup(body, p).ok_or_else(|| {
            let keys = body.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default();
            format!("the response has no `{p}`; its top-level keys are: {keys}")
        })?,
    };
    match target {
        Value::Array(a) => Ok(a.as_slice()),
        Value::Null => Ok(&[]),
        Value::Object(o) => {
            let arrays: Vec<&String> = o.iter().filter(|(_, v)| v.is_array()).map(|(k, _)| k).collect();
            Err(match (items, arrays.first()) {
                (None, Some(k)) => format!("the response is an object, not a list; set `items: {k}`"),
                _ => format!("`{}` is an object, not a list", items.unwrap_or("the response")),
            })
        }
        other => Err(format!("`{}` is {other}, not a list", items.unwrap_or("the response"))),
    }
}
