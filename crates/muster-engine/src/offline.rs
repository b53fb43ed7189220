//! `muster test --offline`: run a spec's `tests:` blocks — a fixture response in, records out, compared
//! with `expect` as a subset match. No network.

use crate::map::{self, Coverage, Ctx};
use muster_spec::CompiledConnector;
use muster_spec::schema::TestCase;
use serde_json::Value;

/// The outcome of one offline test.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestOutcome {
    pub name: String,
    pub passed: bool,
    /// What went wrong, readable: a diff of expected vs produced records, or the mapping error.
    pub failure: Option<String>,
    pub records: usize,
}

/// Run every `tests:` block of the connector. `vars` are the connector's vars as JSON (env resolved or not).
pub fn run_tests(c: &CompiledConnector, vars: &Value) -> Vec<TestOutcome> {
    c.tests.iter().map(|t| run_one(c, t, vars)).collect()
}

fn run_one(c: &CompiledConnector, t: &TestCase, vars: &Value) -> TestOutcome {
    let fail = |msg: String| TestOutcome { name: t.name.clone(), passed: false, failure: Some(msg), records: 0 };
    let Some(rt) = c.resource_type(&t.resource_type) else {
        return fail(format!("no resource type `{}`", t.resource_type));
    };
    let status = t.status.unwrap_or(200);
    let mut cov = Coverage::default();
    let produced: Result<Vec<Value>, String> = match &t.entitlement {
        None => {
            if !(200..300).contains(&status) {
                return fail(format!("fixture status {status}: a list request with this status fails the sync"));
            }
            let ctx = Ctx { resource_type: &rt.id, vars, resource: None, grantable_to: None };
            map::rows(&t.response, rt.list.items.as_deref()).and_then(|rows| {
                let mut out = Vec::new();
                for (i, item) in rows.iter().enumerate() {
                    match map::map_resource(rt, item, i, &ctx, &mut cov) {
                        Ok(Some(r)) => out.push(serde_json::to_value(&r).unwrap_or(Value::Null)),
                        Ok(None) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok(out)
            })
        }
        Some(slug) => {
            let Some(ent) = rt.entitlements.iter().find(|e| &e.slug == slug) else {
                return fail(format!("no entitlement `{slug}` on `{}`", rt.id));
            };
            let Some(g) = &ent.grants else {
                return fail(format!("entitlement `{slug}` has no grants listing"));
            };
            let resource = t.resource.clone().unwrap_or(Value::Null);
            let rid = resource.get("id").and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            let ctx =
                Ctx { resource_type: &rt.id, vars, resource: Some(&resource), grantable_to: Some(&ent.grantable_to) };
            map::rows(&t.response, g.items.as_deref()).and_then(|rows| {
                let mut out = Vec::new();
                for (i, item) in rows.iter().enumerate() {
                    match map::map_grant(g, slug, rid.as_deref(), item, i, &ctx, &mut cov) {
                        Ok(Some(gr)) => out.push(serde_json::to_value(&gr).unwrap_or(Value::Null)),
                        Ok(None) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok(out)
            })
        }
    };
    let produced = match produced {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut problems = Vec::new();
    let want_count = t.expect_count.unwrap_or(t.expect.len());
    if produced.len() != want_count {
        problems.push(format!("expected {want_count} record(s), got {}", produced.len()));
    }
    for (i, exp) in t.expect.iter().enumerate() {
        match produced.get(i) {
            None => problems.push(format!("record {i}: missing; expected {}", compact(exp))),
            Some(got) => {
                let mut diffs = Vec::new();
                subset_diff(exp, got, "", &mut diffs);
                if !diffs.is_empty() {
                    problems.push(format!("record {i}:\n{}", diffs.join("\n")));
                }
            }
        }
    }
    if problems.is_empty() {
        TestOutcome { name: t.name.clone(), passed: true, failure: None, records: produced.len() }
    } else {
        let got = produced.iter().map(|p| format!("    {}", compact(p))).collect::<Vec<_>>().join("\n");
        TestOutcome {
            name: t.name.clone(),
            passed: false,
            failure: Some(format!(
                "{}\n  produced:\n{}",
                problems.join("\n"),
                if got.is_empty() { "    (none)".into() } else { got }
            )),
            records: produced.len(),
        }
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Collect `- path: expected X, got Y` lines for every part of `exp` not matched in `got`. Objects match
/// as subsets; lists and scalars must be equal. Expected strings also match numbers written the same.
fn subset_diff(exp: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (exp, got) {
        (Value::Object(e), Value::Object(g)) => {
            for (k, ev) in e {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match g.get(k) {
                    Some(gv) => subset_diff(ev, gv, &p, out),
                    None if ev.is_null() => {}
                    // Empty lists and maps are left out of records: expecting one matches its absence.
                    None if ev.as_array().is_some_and(Vec::is_empty)
                        || ev.as_object().is_some_and(|o| o.is_empty()) => {}
                    None => out.push(format!("  - {p}: expected {}, got nothing", compact(ev))),
                }
            }
        }
        (Value::String(e), Value::Number(n)) if *e == n.to_string() => {}
        (e, g) if e == g => {}
        (e, g) => out.push(format!("  - {path}: expected {}, got {}", compact(e), compact(g))),
    }
}
