//! The deterministic drafter: identity surface → inference → YAML.

use crate::oas::{Doc, Flat, Param};
use crate::words::{self, Kind, first_present, norm};
use crate::yaml_out::{Yaml, cel_str, scalar};
use crate::{Choice, Confidence, DraftOptions, DraftOutcome, EnvVar, ParkReport};
use serde_json::Value;
use std::collections::BTreeMap;

use Confidence::{High, Low, Medium};

// ───────────────────────────── operations ─────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Param(String),
}

struct Op<'a> {
    path: String,
    op: &'a Value,
    params: Vec<Param>,
    segs: Vec<Seg>,
    /// operationId, summary and description, lower case.
    text: String,
    /// operationId and summary only, lower case.
    head: String,
}

impl Op<'_> {
    fn op_id(&self) -> Option<&str> {
        self.op.get("operationId").and_then(Value::as_str)
    }
    fn label(&self) -> String {
        match self.op_id() {
            Some(id) => format!("GET {} (operationId {id})", self.path),
            None => format!("GET {}", self.path),
        }
    }
    fn lits(&self) -> Vec<&str> {
        self.segs
            .iter()
            .filter_map(|s| match s {
                Seg::Lit(l) => Some(l.as_str()),
                Seg::Param(_) => None,
            })
            .collect()
    }
    fn query(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.location == "query")
    }
    fn qparam(&self, names: &[&str]) -> Option<&Param> {
        for n in names {
            if let Some(p) = self.query().find(|p| norm(&p.name) == norm(n)) {
                return Some(p);
            }
        }
        None
    }
}

fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        if raw.starts_with('{') && raw.ends_with('}') {
            out.push(Seg::Param(raw[1..raw.len() - 1].to_string()));
        } else {
            for part in raw.split(['.', ':']).filter(|s| !s.is_empty()) {
                out.push(Seg::Lit(part.to_string()));
            }
        }
    }
    out
}

fn collect_ops<'a>(doc: &Doc<'a>) -> Vec<Op<'a>> {
    let mut out = Vec::new();
    let Some(paths) = doc.root.get("paths").and_then(Value::as_object) else { return out };
    for (path, item) in paths {
        let Some(item) = doc.deref(item) else { continue };
        let Some(op) = item.get("get").or_else(|| item.get("GET")) else { continue };
        if !op.is_object() {
            continue;
        }
        let text = [op.get("operationId"), op.get("summary"), op.get("description")]
            .iter()
            .filter_map(|v| v.and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let head = [op.get("operationId"), op.get("summary")]
            .iter()
            .filter_map(|v| v.and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        out.push(Op { path: path.clone(), op, params: doc.params(item, op), segs: segments(path), text, head });
    }
    out
}

// ───────────────────────────── listings ─────────────────────────────

#[derive(Debug, Clone)]
enum Pag {
    None,
    Offset {
        offset_param: String,
        limit_param: String,
        limit: u64,
        total: Option<String>,
    },
    Page {
        page_param: String,
        size_param: Option<String>,
        size: Option<u64>,
        start: Option<u64>,
        total: Option<String>,
        total_pages: Option<String>,
    },
    Cursor {
        param: String,
        cursor_path: Option<String>,
        cursor_header: Option<String>,
        size_param: Option<String>,
        size: Option<u64>,
    },
    NextLink {
        path: String,
    },
    LinkHeader,
    Scim {
        count: u64,
    },
}

/// What a GET returns, read as a listing.
struct Listing<'a> {
    items_path: Option<String>,
    item: Flat<'a>,
    item_is_string: bool,
    item_ptr: Option<String>,
    pag: Pag,
    pag_why: String,
    pag_conf: Confidence,
    query: Vec<(String, String, String)>,
    scoping: Vec<Choice>,
}

const ENVELOPE_KEYS: &[&str] = &[
    "items",
    "data",
    "results",
    "Resources",
    "values",
    "members",
    "records",
    "entries",
    "elements",
    "content",
    "list",
    "rows",
    "nodes",
    "objects",
    "value",
];

fn listing<'a>(doc: &Doc<'a>, op: &Op<'a>, nouns: &[&str]) -> Option<Listing<'a>> {
    let resp = doc.success_response(op.op)?;
    let schema = resp.schema?;
    let top = doc.flatten(schema);
    let (items_path, item_schema, envelope) = if top.is_array() {
        (None, top.items?, None)
    } else if top.is_object() {
        let (path, it) = find_array(doc, &top, nouns, 0)?;
        (Some(path), it, Some(top))
    } else {
        return None;
    };
    let item = doc.flatten_obj(item_schema);
    let item_is_string = item.is_string() && item.props.is_empty();
    let item_ptr = Doc::ref_of(item_schema).or_else(|| item.pointer.clone());
    let (pag, pag_why, pag_conf) = pagination(doc, op, envelope.as_ref(), &resp.headers, items_path.as_deref());
    let (query, scoping) = scoping_params(op, &pag);
    Some(Listing { items_path, item, item_is_string, item_ptr, pag, pag_why, pag_conf, query, scoping })
}

fn find_array<'a>(doc: &Doc<'a>, top: &Flat<'a>, nouns: &[&str], depth: usize) -> Option<(String, &'a Value)> {
    let arrays: Vec<(&String, Flat<'a>, &'a Value)> = top
        .props
        .iter()
        .filter(|(k, _)| words::is_ident(k))
        .map(|(k, v)| (k, doc.flatten(v), *v))
        .filter(|(_, f, _)| f.is_array() && f.items.is_some())
        .collect();
    let pick = |name: &str| arrays.iter().find(|(k, _, _)| k.as_str() == name || norm(k) == norm(name));
    let chosen =
        nouns.iter().find_map(|n| pick(n)).or_else(|| ENVELOPE_KEYS.iter().find_map(|n| pick(n))).or_else(|| {
            let useful: Vec<_> = arrays
                .iter()
                .filter(|(k, _, _)| {
                    !matches!(norm(k).as_str(), "errors" | "warnings" | "links" | "schemas" | "messages")
                })
                .collect();
            if useful.len() == 1 { Some(useful[0]) } else { None }
        });
    if let Some((k, f, _)) = chosen {
        return Some(((*k).clone(), f.items?));
    }
    if depth == 0 {
        for key in ["data", "result", "response", "_embedded", "page", "body"] {
            if let Some(v) = top.props.get(key) {
                let inner = doc.flatten(v);
                if inner.is_object()
                    && let Some((p, it)) = find_array(doc, &inner, nouns, 1)
                {
                    return Some((format!("{key}.{p}"), it));
                }
            }
        }
    }
    None
}

/// Fields of an envelope (and of its object fields, one level down) as dotted paths.
fn envelope_fields<'a>(doc: &Doc<'a>, env: &Flat<'a>) -> Vec<(String, Flat<'a>)> {
    let mut out = Vec::new();
    for (k, v) in &env.props {
        if !words::is_ident(k) {
            continue;
        }
        let f = doc.flatten_obj(v);
        if f.is_object() && !f.is_array() {
            for (k2, v2) in &f.props {
                if words::is_ident(k2) {
                    out.push((format!("{k}.{k2}"), doc.flatten(v2)));
                }
            }
        }
        out.push((k.clone(), f));
    }
    out
}

fn find_field<'a, 'b>(
    fields: &'b [(String, Flat<'a>)],
    names: &[&str],
    pred: impl Fn(&Flat<'a>) -> bool,
) -> Option<&'b str> {
    for n in names {
        if let Some((p, _)) = fields.iter().find(|(p, f)| (p == n || norm(p) == norm(n)) && pred(f)) {
            return Some(p.as_str());
        }
    }
    None
}

fn size_for(p: &Param) -> u64 {
    let default = p.default.as_ref().and_then(Value::as_u64);
    match (p.maximum, default) {
        (Some(max), _) if max >= 1.0 => (max as u64).min(100),
        (None, Some(d)) if d >= 1 => d.min(100),
        _ => 50,
    }
}

fn pagination(
    doc: &Doc<'_>,
    op: &Op<'_>,
    env: Option<&Flat<'_>>,
    headers: &[String],
    items_path: Option<&str>,
) -> (Pag, String, Confidence) {
    let fields = env.map(|e| envelope_fields(doc, e)).unwrap_or_default();
    let is_int = |f: &Flat<'_>| f.is_number() || f.types.is_empty();
    let is_str = |f: &Flat<'_>| f.is_string() || f.types.is_empty();
    let total = find_field(
        &fields,
        &[
            "total",
            "total_count",
            "totalCount",
            "totalResults",
            "total_results",
            "totalSize",
            "total_size",
            "count",
            "meta.total",
            "meta.total_count",
            "pagination.total",
            "page.totalElements",
            "totalElements",
        ],
        is_int,
    )
    .map(str::to_string);
    let size_param = op.qparam(&[
        "limit",
        "per_page",
        "perPage",
        "page_size",
        "pageSize",
        "size",
        "maxResults",
        "max",
        "count",
        "pagesize",
        "$top",
        "top",
        "max_results",
    ]);

    // SCIM
    if op.qparam(&["startIndex"]).is_some() && (op.qparam(&["count"]).is_some() || items_path == Some("Resources")) {
        let count = op.qparam(&["count"]).map(size_for).unwrap_or(100);
        return (Pag::Scim { count }, "SCIM `startIndex`/`count` query parameters".into(), High);
    }
    // A documented Link header
    if headers.iter().any(|h| h.eq_ignore_ascii_case("link")) {
        return (
            Pag::LinkHeader,
            "the response declares a `Link` header (RFC 8288 rel=\"next\"); the page size is left to the server".into(),
            High,
        );
    }
    // Cursor + the next cursor in the body (or a header)
    let cursor_param = op.qparam(&[
        "cursor",
        "next_cursor",
        "page_token",
        "pageToken",
        "next_token",
        "nextToken",
        "continuation",
        "continuationToken",
        "continuation_token",
        "marker",
        "starting_after",
        "pagination_token",
        "paginationToken",
        "NextToken",
        "after",
        "nextPageToken",
        "skiptoken",
        "$skiptoken",
    ]);
    if let Some(cp) = cursor_param {
        let mut names: Vec<String> = vec![
            "response_metadata.next_cursor".into(),
            "next_cursor".into(),
            "nextCursor".into(),
            "meta.next_cursor".into(),
            "meta.nextCursor".into(),
            "pagination.next_cursor".into(),
            "nextPageToken".into(),
            "next_page_token".into(),
            "next_token".into(),
            "nextToken".into(),
            "NextToken".into(),
            "pageInfo.endCursor".into(),
            "page_info.end_cursor".into(),
            "continuationToken".into(),
            "continuation_token".into(),
            "NextMarker".into(),
            "next_marker".into(),
            "meta.next".into(),
            "cursor".into(),
            "meta.cursor".into(),
        ];
        names.push(format!("next_{}", cp.name));
        names.push(format!("next{}", cp.name));
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (sp, sz) = match size_param {
            Some(p) => (Some(p.name.clone()), Some(size_for(p))),
            None => (None, None),
        };
        if let Some(path) = find_field(&fields, &name_refs, is_str) {
            return (
                Pag::Cursor {
                    param: cp.name.clone(),
                    cursor_path: Some(path.to_string()),
                    cursor_header: None,
                    size_param: sp,
                    size: sz,
                },
                format!("query parameter `{}` takes the cursor the body returns in `{path}`", cp.name),
                High,
            );
        }
        if let Some(h) = headers.iter().find(|h| {
            let n = norm(h);
            n.contains("cursor") || n.contains("nexttoken") || n.contains("continuation")
        }) {
            return (
                Pag::Cursor {
                    param: cp.name.clone(),
                    cursor_path: None,
                    cursor_header: Some(h.clone()),
                    size_param: sp,
                    size: sz,
                },
                format!("query parameter `{}` takes the cursor the response returns in header `{h}`", cp.name),
                Medium,
            );
        }
    }
    // Offset / limit
    let offset_pairs: &[(&str, &[&str])] = &[
        ("offset", &["limit", "count", "size", "max", "pageSize", "page_size", "per_page"]),
        ("startAt", &["maxResults"]),
        ("first", &["max"]),
        ("start", &["limit", "count", "size", "max"]),
        ("skip", &["limit", "take", "top", "$top"]),
        ("$skip", &["$top", "top"]),
    ];
    for (off, lims) in offset_pairs {
        if let Some(o) = op.qparam(&[off])
            && let Some(l) = op.qparam(lims)
            && !o.is_bool()
        {
            let limit = size_for(l);
            let guessed = l.maximum.is_none() && l.default.is_none();
            return (
                Pag::Offset { offset_param: o.name.clone(), limit_param: l.name.clone(), limit, total: total.clone() },
                format!(
                    "query parameters `{}`/`{}`{}{}",
                    o.name,
                    l.name,
                    total.as_ref().map(|t| format!(", total in `{t}`")).unwrap_or_default(),
                    if guessed {
                        format!(
                            "; the page size {limit} is a guess (no default or maximum documented): a server that clamps lower ends the walk early"
                        )
                    } else {
                        String::new()
                    }
                ),
                if guessed { Medium } else { High },
            );
        }
    }
    // Page number
    if let Some(pp) = op.qparam(&["page", "pageNumber", "page_number", "pageNo", "p"]) {
        let sp = op.qparam(&["per_page", "perPage", "page_size", "pageSize", "limit", "size", "count", "pagesize"]);
        let total_pages = find_field(
            &fields,
            &[
                "total_pages",
                "totalPages",
                "pages",
                "page_count",
                "pageCount",
                "meta.total_pages",
                "meta.totalPages",
                "last_page",
            ],
            is_int,
        )
        .map(str::to_string);
        let start = match pp.default.as_ref().and_then(Value::as_u64) {
            Some(0) => Some(0),
            _ => None,
        };
        return (
            Pag::Page {
                page_param: pp.name.clone(),
                size_param: sp.map(|p| p.name.clone()),
                size: sp.map(size_for),
                start,
                total: total.clone(),
                total_pages: total_pages.clone(),
            },
            format!(
                "query parameters `{}`{}{}",
                pp.name,
                sp.map(|p| format!("/`{}`", p.name)).unwrap_or_default(),
                total_pages.map(|t| format!(", page count in `{t}`")).unwrap_or_default()
            ),
            if sp.is_some() { High } else { Medium },
        );
    }
    // A next-page link in the body
    if let Some(path) = find_field(
        &fields,
        &[
            "links.next",
            "_links.next",
            "next",
            "nextPage",
            "next_page",
            "next_page_url",
            "nextLink",
            "@odata.nextLink",
            "paging.next",
            "meta.next",
            "pagination.next",
            "next_url",
            "nextUrl",
            "links.next_page",
        ],
        is_str,
    ) {
        return (
            Pag::NextLink { path: path.to_string() },
            format!("the body's `{path}` holds the next page's URL"),
            High,
        );
    }
    if let Some(cp) = cursor_param {
        return (
            Pag::None,
            format!(
                "query parameter `{}` looks like a cursor, but the response documents no next cursor; reads one page",
                cp.name
            ),
            Low,
        );
    }
    if op.query().any(|p| matches!(norm(&p.name).as_str(), "limit" | "pagesize" | "perpage" | "maxresults")) {
        return (Pag::None, "a page-size parameter but no documented way to the next page; reads one page".into(), Low);
    }
    (Pag::None, "no pagination parameters documented; one request".into(), Medium)
}

/// Query parameters that hide part of the data by default.
fn scoping_params(op: &Op<'_>, pag: &Pag) -> (Vec<(String, String, String)>, Vec<Choice>) {
    let mut query = Vec::new();
    let mut choices = Vec::new();
    let hide_words = [
        "inactive",
        "deleted",
        "disabled",
        "archived",
        "suspended",
        "deactivated",
        "removed",
        "all",
        "bots",
        "guests",
        "deprovisioned",
        "expired",
        "revoked",
    ];
    let used: Vec<String> = pag_params(pag);
    for p in op.query() {
        if used.iter().any(|u| u == &p.name) {
            continue;
        }
        let n = norm(&p.name);
        let include_like = n.starts_with("include") || n.starts_with("show") || n.starts_with("with") || n == "all";
        if p.is_bool() && include_like && (n == "all" || hide_words.iter().any(|w| n.contains(w))) {
            let default_true = p.default.as_ref().and_then(Value::as_bool) == Some(true);
            if !default_true {
                query.push((
                    p.name.clone(),
                    "true".to_string(),
                    format!("`{}` defaults to false, which would hide part of the data", p.name),
                ));
                choices.push(Choice {
                    what: format!("query {}=true", p.name),
                    confidence: Medium,
                    why: format!("boolean `{}` would hide part of the data when left at its default", p.name),
                    provenance: op.label(),
                });
            }
            continue;
        }
        let scoping = matches!(
            n.as_str(),
            "domain"
                | "status"
                | "state"
                | "active"
                | "enabled"
                | "deleted"
                | "accountid"
                | "type"
                | "presence"
                | "filter"
                | "scope"
                | "visibility"
                | "userstatus"
                | "includeinactive"
                | "includeinactiveusers"
        ) || n.contains("deleted")
            || n.contains("inactive");
        if !scoping {
            continue;
        }
        if let Some(all) = p.enum_values.iter().find(|v| matches!(norm(v).as_str(), "all" | "any") || v.as_str() == "*")
        {
            query.push((
                p.name.clone(),
                all.clone(),
                format!("the spec documents `{all}` for `{}`: read everything", p.name),
            ));
            choices.push(Choice {
                what: format!("query {}={all}", p.name),
                confidence: Medium,
                why: format!("`{}` scopes the listing; its documented value `{all}` covers everything", p.name),
                provenance: op.label(),
            });
        } else if p.required {
            // Required filters without an "all" value make the listing unusable; handled by the caller.
        } else {
            choices.push(Choice {
                what: format!("query parameter `{}` not set", p.name),
                confidence: Low,
                why: format!(
                    "`{}` filters the listing and the spec documents no value meaning \"all\"; check the API's default does not hide accounts{}",
                    p.name,
                    if p.enum_values.is_empty() { String::new() } else { format!(" (values: {})", p.enum_values.join(", ")) }
                ),
                provenance: op.label(),
            });
        }
    }
    (query, choices)
}

fn pag_params(p: &Pag) -> Vec<String> {
    match p {
        Pag::None | Pag::NextLink { .. } | Pag::LinkHeader => vec![],
        Pag::Offset { offset_param, limit_param, .. } => vec![offset_param.clone(), limit_param.clone()],
        Pag::Page { page_param, size_param, .. } => {
            [Some(page_param.clone()), size_param.clone()].into_iter().flatten().collect()
        }
        Pag::Cursor { param, size_param, .. } => {
            [Some(param.clone()), size_param.clone()].into_iter().flatten().collect()
        }
        Pag::Scim { .. } => vec!["startIndex".into(), "count".into()],
    }
}

// ───────────────────────────── candidates ─────────────────────────────

struct Candidate<'a> {
    kind: Kind,
    type_id: &'static str,
    display: &'static str,
    op_idx: usize,
    listing: Listing<'a>,
    score: i32,
    /// Path params turned into vars: (param name, var name).
    vars: Vec<(String, String)>,
    notes: Vec<String>,
}

const PAGING_NAMES: &[&str] = &[
    "limit",
    "offset",
    "page",
    "perpage",
    "pagesize",
    "cursor",
    "after",
    "startat",
    "maxresults",
    "first",
    "max",
    "count",
    "startindex",
    "size",
];

/// Parameters that carry credentials: the auth block supplies them.
fn is_auth_param(name: &str) -> bool {
    matches!(
        norm(name).as_str(),
        "token" | "accesstoken" | "apikey" | "apitoken" | "key" | "authorization" | "auth" | "authtoken"
    )
}

fn required_blockers(op: &Op<'_>) -> Vec<String> {
    op.query()
        .filter(|p| {
            p.required
                && p.default.is_none()
                && !PAGING_NAMES.contains(&norm(&p.name).as_str())
                && !is_auth_param(&p.name)
        })
        .map(|p| p.name.clone())
        .collect()
}

fn is_me_scoped(op: &Op<'_>) -> bool {
    if op.lits().iter().any(|l| words::is_me(l)) {
        return true;
    }
    // GitHub-style `/user/...`: the singular `user` followed by another noun is the authenticated user's
    let segs: Vec<&Seg> = op
        .segs
        .iter()
        .skip_while(|s| matches!(s, Seg::Lit(l) if matches!(norm(l).as_str(), "api" | "rest") || norm(l).chars().all(|c| c.is_ascii_digit()) || words::is_verb(l)))
        .collect();
    if let (Some(Seg::Lit(first)), Some(Seg::Lit(second))) = (segs.first(), segs.get(1))
        && norm(first) == "user"
        && !words::is_verb(second)
    {
        return true;
    }
    // the summary, not the description: "teams visible to the authenticated user" is not a whoami
    let t = &op.head;
    [
        "current user",
        "authenticated user",
        "currently logged",
        "the caller",
        "calling user",
        "signed-in user",
        "logged-in user",
        "logged in user",
        "user making the request",
        "yourself",
        "current user's",
        "whoami",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// The collection noun: the last literal that is not a verb.
fn noun_of(op: &Op<'_>) -> Option<(usize, String)> {
    for (i, s) in op.segs.iter().enumerate().rev() {
        match s {
            Seg::Lit(l) if words::is_verb(l) => continue,
            Seg::Lit(l) => return Some((i, l.clone())),
            Seg::Param(_) => return None,
        }
    }
    None
}

fn id_field(item: &Flat<'_>, kind: Kind, type_id: &str) -> Option<String> {
    let props: Vec<&str> = item.props.keys().map(String::as_str).filter(|k| words::is_ident(k)).collect();
    let base = type_id.split('_').next_back().unwrap_or(type_id);
    let own: Vec<String> = vec![format!("{base}Id"), format!("{base}_id"), format!("{type_id}_id")];
    let own_refs: Vec<&str> = own.iter().map(String::as_str).collect();
    let mut cands: Vec<&str> = vec!["id", "uuid", "guid", "Id", "ID"];
    cands.extend(own_refs.iter());
    cands.extend(["accountId", "account_id", "sid", "objectId", "uid"]);
    if kind != Kind::Secret {
        cands.push("key");
    }
    if matches!(kind, Kind::Role | Kind::Group | Kind::App) {
        cands.extend(["clientId", "slug", "name"]);
    }
    first_present(&props, &cands)
        .map(str::to_string)
        .filter(|f| !(kind == Kind::Secret && words::is_secret_value_field(f)))
}

fn identity_context(op: &Op<'_>, item: &Flat<'_>, ops: &[Op<'_>], noun: &str) -> bool {
    let idish = [
        "users",
        "user",
        "admin",
        "iam",
        "auth",
        "identity",
        "access",
        "rbac",
        "security",
        "scim",
        "directory",
        "accounts",
        "people",
    ];
    if op.lits().iter().any(|l| idish.contains(&norm(l).as_str())) {
        return true;
    }
    let memberish = [
        "members",
        "users",
        "membercount",
        "usercount",
        "permissions",
        "actors",
        "principals",
        "userids",
        "membership",
        "owners",
        "clientid",
        "redirecturis",
        "serviceaccountsenabled",
        "scopes",
        "grants",
        "ownerid",
        "userid",
        "owner",
        "user",
        "expiresat",
        "expires",
        "lastused",
        "lastusedat",
        "createdby",
    ];
    if item.props.keys().any(|k| memberish.contains(&norm(k).as_str())) {
        return true;
    }
    // a membership listing under this noun
    let nn = norm(noun);
    ops.iter().any(|o| {
        o.segs.windows(3).any(|w| matches!((&w[0], &w[1], &w[2]), (Seg::Lit(a), Seg::Param(_), Seg::Lit(m)) if norm(a) == nn && words::is_member_noun(m)))
            || o.segs.windows(2).any(|w| matches!((&w[0], &w[1]), (Seg::Lit(a), Seg::Lit(m)) if norm(a) == nn && words::is_member_noun(m)))
    })
}

fn list_candidates<'a>(doc: &Doc<'a>, ops: &[Op<'a>], found: &mut Vec<String>) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    for (idx, op) in ops.iter().enumerate() {
        if op.lits().iter().any(|l| words::is_me(l)) {
            found.push(format!(
                "{}: the caller's own account or data (a whoami), not a listing of everyone",
                op.label()
            ));
            continue;
        }
        let Some((noun_pos, noun)) = noun_of(op) else { continue };
        let Some((kind, type_id, display)) = words::classify_noun(&noun) else { continue };
        let label = op.label();
        if is_me_scoped(op) {
            found.push(format!("{label}: the caller's own {} (a whoami), not a listing of everyone", kind.label()));
            continue;
        }
        // a noun right after a parameter is nested (`/groups/{id}/users`): a membership, not a listing
        if noun_pos >= 2
            && matches!(op.segs.get(noun_pos - 1), Some(Seg::Param(_)))
            && let Some(Seg::Lit(parent)) = op.segs.get(noun_pos - 2)
        {
            // `/users/{id}/groups` lists one user's groups; `/orgs/{org}/teams` one org's teams
            let parent_kind = words::classify_noun(parent).map(|c| c.0);
            if parent_kind.is_some() && !(kind == Kind::Group && parent_kind == Some(Kind::Group)) {
                found.push(format!("{label}: {} of one {parent} (nested), not a listing of everyone", kind.label()));
                continue;
            }
        }
        let blockers = required_blockers(op);
        if !blockers.is_empty() {
            found.push(format!(
                "{label}: lists {} but requires query parameter(s) {}",
                kind.label(),
                blockers.join(", ")
            ));
            continue;
        }
        let deprecated = op.op.get("deprecated").and_then(Value::as_bool) == Some(true);
        let plural = if noun.ends_with('s') { noun.clone() } else { format!("{noun}s") };
        let nouns: Vec<&str> = vec![plural.as_str(), noun.as_str(), type_id];
        let Some(listing) = listing(doc, op, &nouns) else {
            found.push(format!("{label}: named like {} but its response has no list of rows", kind.label()));
            continue;
        };
        if listing.item_is_string || !listing.item.is_object() {
            found.push(format!("{label}: {} rows are not objects", kind.label()));
            continue;
        }
        if id_field(&listing.item, kind, type_id).is_none() {
            found.push(format!("{label}: {} rows have no id field in the response schema", kind.label()));
            continue;
        }
        if matches!(kind, Kind::Role | Kind::Group | Kind::App | Kind::Secret)
            && !identity_context(op, &listing.item, ops, &noun)
        {
            found.push(format!("{label}: `{noun}` rows show no link to accounts (no members, users or permissions): read as business objects"));
            continue;
        }
        let mut score = 10;
        let mut notes = Vec::new();
        let mut vars = Vec::new();
        let mut reject = false;
        for s in &op.segs {
            if let Seg::Param(p) = s {
                if words::is_tenancy_param(p) {
                    score -= 1;
                } else if kind == Kind::Group {
                    score -= 5;
                    notes.push(format!("path parameter `{p}` becomes a var: this lists one {p}'s {noun} only"));
                } else {
                    reject = true;
                }
                vars.push((p.clone(), words::snake(p)));
            }
        }
        if reject {
            found.push(format!("{label}: {} under another object (path parameters); not a full listing", kind.label()));
            continue;
        }
        let lits = op.lits();
        if lits.iter().any(|l| norm(l) == "admin") {
            score += 3;
        }
        if op.text.contains("list") || op.text.contains(" all ") || op.text.starts_with("all") {
            score += 1;
        }
        if op.text.contains("all users")
            || op.text.contains("list all")
            || op.text.contains("every ")
            || op.text.contains("all (active and inactive)")
        {
            score += 1;
        }
        if lits.iter().any(|l| norm(l) == "search") || op.op_id().is_some_and(|i| i.to_lowercase().contains("search")) {
            score -= 2;
        }
        if ["picker", "suggest", "autocomplete", "typeahead", "lookup"]
            .iter()
            .any(|w| op.path.to_lowercase().contains(w))
        {
            score -= 6;
        }
        if deprecated {
            score -= 4;
            notes.push("the operation is marked deprecated".into());
        }
        if noun.ends_with('s') {
            score += 1;
        }
        if matches!(kind, Kind::User | Kind::ServiceAccount) {
            let props: Vec<String> = listing.item.props.keys().map(|k| norm(k)).collect();
            let hits = ["email", "username", "login", "emailaddress", "displayname", "active", "lastlogin"]
                .iter()
                .filter(|w| props.iter().any(|p| p == *w))
                .count() as i32;
            score += hits.min(4);
        }
        if !matches!(listing.pag, Pag::None) {
            score += 1;
        }
        out.push(Candidate { kind, type_id, display, op_idx: idx, listing, score, vars, notes });
    }
    out
}

// ───────────────────────────── memberships ─────────────────────────────

struct Membership<'a> {
    container: &'static str,
    op_idx: usize,
    listing: Listing<'a>,
    /// How the container is named: in the path (`{param}`) or a query parameter.
    container_param: String,
    in_query: bool,
    by_name: bool,
    vars: Vec<(String, String)>,
    score: i32,
}

fn memberships<'a>(
    doc: &Doc<'a>,
    ops: &[Op<'a>],
    chosen: &[&'static str],
    known_vars: &[(String, String)],
) -> Vec<Membership<'a>> {
    let mut best: BTreeMap<&'static str, Membership<'a>> = BTreeMap::new();
    for (idx, op) in ops.iter().enumerate() {
        if is_me_scoped(op) {
            continue;
        }
        // trailing verbs removed
        let mut end = op.segs.len();
        while end > 0 && matches!(&op.segs[end - 1], Seg::Lit(l) if words::is_verb(l)) {
            end -= 1;
        }
        if end < 2 {
            continue;
        }
        let Seg::Lit(member_noun) = &op.segs[end - 1] else { continue };
        if !words::is_member_noun(member_noun) {
            continue;
        }
        let (container_lit, container_param, in_query, before) = match &op.segs[end - 2] {
            Seg::Param(p) if end >= 3 => match &op.segs[end - 3] {
                Seg::Lit(c) => (c.clone(), p.clone(), false, end - 3),
                _ => continue,
            },
            Seg::Lit(c) => {
                let singular = norm(c).trim_end_matches('s').to_string();
                let qp = op
                    .query()
                    .filter(|p| {
                        let n = norm(&p.name);
                        n.contains(&singular) || n == "id"
                    })
                    .min_by_key(|p| {
                        let n = norm(&p.name);
                        (
                            if n.ends_with("id") {
                                0
                            } else if n.contains("name") {
                                2
                            } else {
                                1
                            },
                            p.name.clone(),
                        )
                    });
                match qp {
                    Some(qp) => (c.clone(), qp.name.clone(), true, end - 2),
                    None => continue,
                }
            }
            _ => continue,
        };
        let Some((ckind, ctype, _)) = words::classify_noun(&container_lit) else { continue };
        if matches!(ckind, Kind::User | Kind::ServiceAccount | Kind::Secret) {
            continue;
        }
        if !chosen.contains(&ctype) {
            continue;
        }
        // other path params must be known vars (or tenancy-like ones)
        let mut vars = Vec::new();
        let mut ok = true;
        for s in &op.segs[..before] {
            if let Seg::Param(p) = s {
                if let Some(v) = known_vars.iter().find(|(pp, _)| pp == p) {
                    vars.push(v.clone());
                } else if words::is_tenancy_param(p) {
                    vars.push((p.clone(), words::snake(p)));
                } else {
                    ok = false;
                }
            }
        }
        if !ok {
            continue;
        }
        let blockers: Vec<String> = required_blockers(op).into_iter().filter(|b| b != &container_param).collect();
        if !blockers.is_empty() {
            continue;
        }
        let nouns = [member_noun.as_str(), "members", "users"];
        let Some(listing) = listing(doc, op, &nouns) else { continue };
        let cp_norm = norm(&container_param);
        let by_name = cp_norm.contains("name") && !cp_norm.ends_with("id");
        let mut score = 10;
        if !in_query {
            score += 2;
        }
        if norm(member_noun) == "members" || norm(member_noun) == "assignments" {
            score += 1;
        }
        if by_name {
            score -= 1;
        }
        score -= vars.len() as i32;
        let m = Membership { container: ctype, op_idx: idx, listing, container_param, in_query, by_name, vars, score };
        match best.get(ctype) {
            Some(b)
                if (b.score, std::cmp::Reverse(ops[b.op_idx].path.len()))
                    >= (m.score, std::cmp::Reverse(op.path.len())) => {}
            _ => {
                best.insert(ctype, m);
            }
        }
    }
    best.into_values().collect()
}

// ───────────────────────────── auth ─────────────────────────────

#[derive(Debug, Clone, PartialEq)]
enum AuthKind {
    Basic,
    Bearer,
    ApiKey {
        header: Option<String>,
        query: Option<String>,
        prefix: Option<String>,
    },
    ClientCredentials {
        token_url: String,
        scopes: Vec<String>,
    },
    Password {
        token_url: String,
    },
    /// A login operation documented in the spec: POST credentials, read a token from the response.
    Login(LoginOp),
}

/// A `POST /login`-like operation: a JSON body with user-name and password fields, a token in the response.
#[derive(Debug, Clone, PartialEq)]
struct LoginOp {
    path: String,
    label: String,
    user_field: String,
    password_field: String,
    token_path: String,
    expires_in_path: Option<String>,
    expires_at_path: Option<String>,
}

#[derive(Debug, Clone)]
struct AuthPlan {
    scheme: String,
    kind: AuthKind,
    confidence: Confidence,
    why: String,
}

fn scheme_plan(name: &str, s: &Value, server_full: Option<&str>) -> Option<(AuthPlan, u8)> {
    let ty = s.get("type").and_then(Value::as_str).unwrap_or("").to_lowercase();
    let desc = s.get("description").and_then(Value::as_str).unwrap_or("");
    let lname = norm(name);
    if lname.contains("sudo")
        || lname.contains("otp")
        || norm(desc).contains("sudo")
        || s.get("x-amazon-apigateway-authtype").is_some()
    {
        return None;
    }
    let abs = |u: &str| -> String {
        if u.contains("://") {
            u.to_string()
        } else {
            let host = server_full.and_then(|f| f.find("://").map(|i| (i, f))).map(|(i, f)| {
                let rest = &f[i + 3..];
                let end = rest.find('/').map(|j| i + 3 + j).unwrap_or(f.len());
                f[..end].to_string()
            });
            format!("{}{}", host.unwrap_or_default(), u)
        }
    };
    match ty.as_str() {
        "basic" => Some((
            AuthPlan {
                scheme: name.into(),
                kind: AuthKind::Basic,
                confidence: High,
                why: format!("security scheme `{name}` is HTTP basic"),
            },
            6,
        )),
        "http" => {
            let scheme = s.get("scheme").and_then(Value::as_str).unwrap_or("").to_lowercase();
            match scheme.as_str() {
                "basic" => Some((
                    AuthPlan {
                        scheme: name.into(),
                        kind: AuthKind::Basic,
                        confidence: High,
                        why: format!("security scheme `{name}` is HTTP basic"),
                    },
                    6,
                )),
                "bearer" => Some((
                    AuthPlan {
                        scheme: name.into(),
                        kind: AuthKind::Bearer,
                        confidence: High,
                        why: format!("security scheme `{name}` is HTTP bearer"),
                    },
                    8,
                )),
                _ => None,
            }
        }
        "apikey" => {
            let loc = s.get("in").and_then(Value::as_str).unwrap_or("header");
            let pname = s.get("name").and_then(Value::as_str).unwrap_or("Authorization").to_string();
            let prefix = prefix_from(desc, &pname);
            match loc {
                "header" => {
                    let conf = if pname.eq_ignore_ascii_case("authorization") && prefix.is_none() { Low } else { High };
                    let why = if conf == Low {
                        format!(
                            "security scheme `{name}` sends a key in the `Authorization` header; the spec does not say what goes before it (e.g. `Token ` or `Bearer `)"
                        )
                    } else {
                        format!("security scheme `{name}` sends a key in header `{pname}`")
                    };
                    Some((
                        AuthPlan {
                            scheme: name.into(),
                            kind: AuthKind::ApiKey { header: Some(pname), query: None, prefix },
                            confidence: conf,
                            why,
                        },
                        7,
                    ))
                }
                "query" => Some((
                    AuthPlan {
                        scheme: name.into(),
                        kind: AuthKind::ApiKey { header: None, query: Some(pname.clone()), prefix: None },
                        confidence: Medium,
                        why: format!(
                            "security scheme `{name}` sends a key in query parameter `{pname}` (keys in URLs end up in logs)"
                        ),
                    },
                    3,
                )),
                _ => None,
            }
        }
        "oauth2" => {
            // Swagger 2: flow + tokenUrl; OpenAPI 3: flows.{clientCredentials,password,...}
            let flows = s.get("flows");
            let cc = flows
                .and_then(|f| f.get("clientCredentials"))
                .or_else(|| matches!(s.get("flow").and_then(Value::as_str), Some("application")).then_some(s));
            if let Some(f) = cc
                && let Some(t) = f.get("tokenUrl").and_then(Value::as_str)
            {
                let scopes: Vec<String> =
                    f.get("scopes").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
                return Some((
                    AuthPlan {
                        scheme: name.into(),
                        kind: AuthKind::ClientCredentials { token_url: abs(t), scopes },
                        confidence: High,
                        why: format!("security scheme `{name}` has an OAuth2 client-credentials flow"),
                    },
                    7,
                ));
            }
            let pw = flows
                .and_then(|f| f.get("password"))
                .or_else(|| matches!(s.get("flow").and_then(Value::as_str), Some("password")).then_some(s));
            if let Some(f) = pw
                && let Some(t) = f.get("tokenUrl").and_then(Value::as_str)
            {
                return Some((
                    AuthPlan {
                        scheme: name.into(),
                        kind: AuthKind::Password { token_url: abs(t) },
                        confidence: Medium,
                        why: format!("security scheme `{name}` has an OAuth2 password flow"),
                    },
                    4,
                ));
            }
            Some((
                AuthPlan {
                    scheme: name.into(),
                    kind: AuthKind::Bearer,
                    confidence: Low,
                    why: format!(
                        "security scheme `{name}` is OAuth2 with interactive flows only; use an access token obtained from it as a bearer token"
                    ),
                },
                2,
            ))
        }
        "openidconnect" => Some((
            AuthPlan {
                scheme: name.into(),
                kind: AuthKind::Bearer,
                confidence: Low,
                why: format!("security scheme `{name}` is OpenID Connect; use an access token as a bearer token"),
            },
            2,
        )),
        _ => None,
    }
}

/// The JSON request body schema of an operation (OpenAPI 3 `requestBody`, Swagger 2 `in: body`).
fn json_body_schema<'a>(doc: &Doc<'a>, op: &'a Value) -> Option<&'a Value> {
    if let Some(rb) = op.get("requestBody").and_then(|r| doc.deref(r)) {
        let content = rb.get("content")?.as_object()?;
        let media = content
            .get("application/json")
            .or_else(|| content.iter().find(|(k, _)| k.contains("json")).map(|(_, v)| v))?;
        return media.get("schema");
    }
    let params = op.get("parameters")?.as_array()?;
    params
        .iter()
        .filter_map(|p| doc.deref(p))
        .find(|p| p.get("in").and_then(Value::as_str) == Some("body"))?
        .get("schema")
}

/// The dotted path of a token field in a login response (top level, or one object down such as `data.token`),
/// with the expiry fields next to it.
fn login_token_fields(doc: &Doc<'_>, schema: &Value) -> Option<(String, Option<String>, Option<String>)> {
    const TOKEN: &[&str] =
        &["token", "accesstoken", "authtoken", "sessiontoken", "bearertoken", "apitoken", "jwt", "idtoken"];
    const EXPIRES_IN: &[&str] = &["expiresin", "expiresinseconds", "ttl", "lifetime"];
    const EXPIRES_AT: &[&str] =
        &["expiresat", "expiry", "expires", "expiration", "expirationtime", "validuntil", "expirytime"];
    let look = |flat: &Flat<'_>, prefix: &str| -> Option<(String, Option<String>, Option<String>)> {
        let find = |names: &[&str], pred: &dyn Fn(&Flat<'_>) -> bool| -> Option<String> {
            names.iter().find_map(|n| {
                flat.props
                    .iter()
                    .find(|(k, v)| norm(k) == *n && pred(&doc.flatten(v)))
                    .map(|(k, _)| format!("{prefix}{k}"))
            })
        };
        let token = find(TOKEN, &|f: &Flat<'_>| f.is_string() || f.types.is_empty())?;
        let expires_in = find(EXPIRES_IN, &|f: &Flat<'_>| f.is_number());
        let expires_at =
            if expires_in.is_none() { find(EXPIRES_AT, &|f: &Flat<'_>| f.is_string() || f.is_number()) } else { None };
        Some((token, expires_in, expires_at))
    };
    let top = doc.flatten(schema);
    if let Some(found) = look(&top, "") {
        return Some(found);
    }
    top.props.iter().find_map(|(k, v)| {
        let inner = doc.flatten(v);
        if inner.is_object() && !k.contains('.') { look(&inner, &format!("{k}.")) } else { None }
    })
}

/// A login operation: a POST without path parameters, named like a login / session / token exchange, whose
/// JSON body has user-name and password fields and whose response has a token.
fn find_login(doc: &Doc<'_>) -> Option<LoginOp> {
    const USER: &[&str] = &["username", "user", "login", "userid", "email", "account"];
    const PASSWORD: &[&str] = &["password", "passwd", "pass", "userpassword"];
    let paths = doc.root.get("paths")?.as_object()?;
    let mut best: Option<(u8, LoginOp)> = None;
    for (path, item) in paths {
        if path.contains('{') {
            continue;
        }
        let Some(item) = doc.deref(item) else { continue };
        let Some(op) = item.get("post").filter(|o| o.is_object()) else { continue };
        let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
        let named = format!("{} {}", norm(path), norm(id));
        if !["login", "signin", "logon", "session", "auth", "token"].iter().any(|w| named.contains(w)) {
            continue;
        }
        let Some(body) = json_body_schema(doc, op) else { continue };
        let flat = doc.flatten(body);
        let field = |names: &[&str]| names.iter().find_map(|n| flat.props.keys().find(|k| norm(k) == *n).cloned());
        let (Some(user_field), Some(password_field)) = (field(USER), field(PASSWORD)) else { continue };
        // other required fields could not be filled in
        if flat.required.iter().any(|r| *r != user_field && *r != password_field) {
            continue;
        }
        let Some(resp) = doc.success_response(op) else { continue };
        let Some((token_path, expires_in_path, expires_at_path)) = resp.schema.and_then(|s| login_token_fields(doc, s))
        else {
            continue;
        };
        let open = op.get("security").and_then(Value::as_array).is_some_and(Vec::is_empty);
        let rank = u8::from(open) * 2 + u8::from(named.contains("login") || named.contains("signin"));
        let label = if id.is_empty() { format!("POST {path}") } else { format!("POST {path} (operationId {id})") };
        let l = LoginOp {
            path: path.clone(),
            label,
            user_field,
            password_field,
            token_path,
            expires_in_path,
            expires_at_path,
        };
        if best.as_ref().is_none_or(|(r, b)| rank > *r || (rank == *r && l.path.len() < b.path.len())) {
            best = Some((rank, l));
        }
    }
    best.map(|b| b.1)
}

/// An HTTP bearer scheme whose tokens come from a documented login operation becomes `type: login`.
fn with_login(doc: &Doc<'_>, plan: AuthPlan, login: Option<&LoginOp>) -> AuthPlan {
    let Some(l) = login else { return plan };
    if plan.kind != AuthKind::Bearer {
        return plan;
    }
    let Some(s) = doc.security_schemes().and_then(|m| m.get(&plan.scheme)).and_then(|s| doc.deref(s)) else {
        return plan;
    };
    let ty = s.get("type").and_then(Value::as_str).unwrap_or("").to_lowercase();
    let scheme = s.get("scheme").and_then(Value::as_str).unwrap_or("").to_lowercase();
    if !(ty == "http" && scheme == "bearer") {
        return plan;
    }
    let desc = s.get("description").and_then(Value::as_str).unwrap_or("").to_lowercase();
    let named = desc.contains(&l.path.to_lowercase()) || desc.contains("login") || desc.contains("log in");
    AuthPlan {
        confidence: if named { High } else { Medium },
        why: format!(
            "security scheme `{}` is HTTP bearer with tokens from {}{} (user name and password in a JSON body)",
            plan.scheme,
            l.label,
            if named { ", as the scheme's description says" } else { "" }
        ),
        kind: AuthKind::Login(l.clone()),
        scheme: plan.scheme,
    }
}

fn prefix_from(desc: &str, header: &str) -> Option<String> {
    if !header.eq_ignore_ascii_case("authorization") {
        return None;
    }
    let d = desc.to_lowercase();
    if let Some(i) = d.find("prepended with") {
        let rest = &desc[i + "prepended with".len()..];
        let word: String = rest
            .trim_start()
            .trim_start_matches(['"', '\'', '`'])
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        if !word.is_empty() {
            return Some(format!("{word} "));
        }
    }
    for w in ["Bearer", "Token", "SSWS", "Basic", "token", "Key"] {
        if desc.contains(&format!("\"{w} "))
            || desc.contains(&format!("`{w} "))
            || desc.contains(&format!("'{w} "))
            || desc.contains(&format!("{w} <"))
        {
            return Some(format!("{w} "));
        }
    }
    None
}

fn op_auth(doc: &Doc<'_>, op: &Value, server_full: Option<&str>) -> Option<AuthPlan> {
    let schemes = doc.security_schemes()?;
    let reqs = doc.security(op)?;
    let mut best: Option<(AuthPlan, u8)> = None;
    for req in &reqs {
        if req.len() != 1 {
            continue;
        }
        let Some(s) = schemes.get(&req[0]).and_then(|s| doc.deref(s)) else { continue };
        if let Some((plan, rank)) = scheme_plan(&req[0], s, server_full)
            && best.as_ref().is_none_or(|(_, r)| rank > *r)
        {
            best = Some((plan, rank));
        }
    }
    best.map(|b| b.0)
}

// ───────────────────────────── mapping ─────────────────────────────

/// An expression reading a field (dotted path), null-safe unless the field is required.
fn access(path: &str, required: bool) -> String {
    if required && !path.contains('.') {
        return format!("item.{path}");
    }
    let parts: Vec<&str> = path.split('.').collect();
    format!("item.?{}.orValue(null)", parts.join(".?"))
}

struct Fields<'a> {
    /// (dotted name, flat schema, required)
    all: Vec<(String, Flat<'a>, bool)>,
}

impl<'a> Fields<'a> {
    fn new(doc: &Doc<'a>, item: &Flat<'a>) -> Fields<'a> {
        let mut all = Vec::new();
        for (k, v) in &item.props {
            if !words::is_ident(k) {
                continue;
            }
            let f = doc.flatten_obj(v);
            if f.is_object() && !f.is_array() {
                for (k2, v2) in &f.props {
                    if words::is_ident(k2) {
                        all.push((format!("{k}.{k2}"), doc.flatten(v2), false));
                    }
                }
            }
            all.push((k.clone(), f, item.is_required(k)));
        }
        // top-level fields first
        all.sort_by_key(|(k, _, _)| k.contains('.'));
        Fields { all }
    }

    fn find(&self, names: &[&str], pred: impl Fn(&Flat<'a>) -> bool) -> Option<&(String, Flat<'a>, bool)> {
        for n in names {
            if let Some(f) = self.all.iter().find(|(k, f, _)| (k == n || norm(k) == norm(n)) && pred(f)) {
                return Some(f);
            }
        }
        None
    }
}

fn any<'a>(_: &Flat<'a>) -> bool {
    true
}
fn scalarish(f: &Flat<'_>) -> bool {
    !f.is_object() && !f.is_array()
}
fn boolish(f: &Flat<'_>) -> bool {
    f.is_bool()
}

fn status_expr(fields: &Fields<'_>, choices: &mut Vec<Choice>, what: &str, prov: &str) -> Option<(String, String)> {
    let mut chain: Vec<(String, &str)> = Vec::new();
    let mut why = Vec::new();
    let cond = |name: &str, req: bool, default: bool| -> String {
        if req { format!("item.{name}") } else { format!("item.?{}.orValue({default})", name.replace('.', ".?")) }
    };
    for n in ["deleted", "is_deleted", "isDeleted", "is_forgotten", "deprovisioned"] {
        if let Some((k, _, r)) = fields.find(&[n], boolish) {
            chain.push((cond(k, *r, false), "deleted"));
            why.push(format!("`{k}` true → deleted"));
            break;
        }
    }
    for n in [
        "disabled",
        "is_disabled",
        "isDisabled",
        "suspended",
        "is_suspended",
        "isSuspended",
        "locked",
        "is_locked",
        "isLocked",
        "blocked",
        "isBlocked",
        "deactivated",
        "prohibit_login",
        "login_disabled",
        "archived",
        "is_archived",
        "revoked",
    ] {
        if let Some((k, _, r)) = fields.find(&[n], boolish)
            && !k.contains('.')
        {
            chain.push((cond(k, *r, false), "disabled"));
            why.push(format!("`{k}` true → disabled"));
        }
    }
    let positive = ["active", "isActive", "is_active", "enabled", "isEnabled", "is_enabled"]
        .iter()
        .find_map(|n| fields.find(&[n], boolish).filter(|(k, _, _)| !k.contains('.')));
    // The chosen expression, wrapped in the deleted/disabled flag conditions, recorded as a choice.
    let mut decide = |base: String, why: String, confidence| {
        let expr = chain.iter().rev().fold(base, |e, (cnd, val)| format!("{cnd} ? '{val}' : {}", paren(&e)));
        choices.push(Choice {
            what: format!("{what}.map.status"),
            confidence,
            why: why.clone(),
            provenance: prov.into(),
        });
        Some((expr, why))
    };
    if let Some((k, _, r)) = positive {
        why.push(format!("`{k}` false → disabled"));
        let c = cond(k, *r, true);
        return decide(format!("{c} ? 'enabled' : 'disabled'"), why.join("; "), High);
    }
    // enums
    let enum_field = fields.find(
        &[
            "status",
            "state",
            "accountStatus",
            "account_status",
            "userStatus",
            "user_status",
            "lifecycle",
            "lifecycleState",
            "lifecycle_state",
            "accountState",
        ],
        |f| f.is_string() && !f.enum_values.is_empty(),
    );
    if let Some((k, f, r)) = enum_field {
        let mut disabled = Vec::new();
        let mut deleted = Vec::new();
        for v in &f.enum_values {
            match words::status_of_value(v) {
                "deleted" => deleted.push(cel_str(v)),
                "disabled" => disabled.push(cel_str(v)),
                _ => {}
            }
        }
        if !disabled.is_empty() || !deleted.is_empty() {
            let acc = if *r && !k.contains('.') {
                format!("item.{k}")
            } else {
                format!("item.?{}.orValue('')", k.replace('.', ".?"))
            };
            let mut expr = "'enabled'".to_string();
            if !disabled.is_empty() {
                expr = format!("{acc} in [{}] ? 'disabled' : {expr}", disabled.join(", "));
            }
            if !deleted.is_empty() {
                expr = format!("{acc} in [{}] ? 'deleted' : {}", deleted.join(", "), paren(&expr));
            }
            let w =
                format!("`{k}` enum ({}): disabled/deleted values mapped, others enabled", f.enum_values.join(", "));
            return decide(expr, w, Medium);
        }
    }
    if !chain.is_empty() {
        return decide("'enabled'".to_string(), why.join("; "), High);
    }
    if let Some((k, _, _)) = fields.find(&["status", "state"], |f| f.is_string()) {
        choices.push(Choice {
            what: format!("{what}.map.status"),
            confidence: Low,
            why: format!(
                "`{k}` looks like a status but the spec documents no values; not mapped (everything reads as enabled)"
            ),
            provenance: prov.into(),
        });
    }
    None
}

fn paren(e: &str) -> String {
    if e.starts_with('\'') && e.ends_with('\'') && !e[1..e.len() - 1].contains('\'') {
        e.to_string()
    } else {
        format!("({e})")
    }
}

// ───────────────────────────── the drafter ─────────────────────────────

struct Drafted<'a> {
    cand: Candidate<'a>,
    id_field: String,
    display_field: Option<String>,
}

pub fn draft(root: &Value, opts: &DraftOptions) -> DraftOutcome {
    let looked_for = vec![
        "GET listings of users / accounts / members, service accounts and bots".to_string(),
        "GET listings of groups, teams and organizations, with member listings (/groups/{id}/members)".to_string(),
        "GET listings of roles with assignment listings (/roles/{id}/users)".to_string(),
        "GET listings of apps / OAuth clients and of API tokens / keys / credentials (metadata)".to_string(),
    ];
    let Some(doc) = Doc::new(root) else {
        return DraftOutcome::Park(ParkReport {
            looked_for,
            found: vec![],
            reason: "not an OpenAPI or Swagger document (no `openapi`, `swagger` or `paths`)".into(),
        });
    };
    let ops = collect_ops(&doc);
    let mut found = Vec::new();
    let cands = list_candidates(&doc, &ops, &mut found);

    // best candidate per type id
    let mut best: BTreeMap<&'static str, Candidate<'_>> = BTreeMap::new();
    let mut runners_up: Vec<String> = Vec::new();
    for c in cands {
        let key = c.type_id;
        let better = match best.get(key) {
            None => true,
            Some(b) => {
                (c.score, std::cmp::Reverse(ops[c.op_idx].path.len()), std::cmp::Reverse(ops[c.op_idx].path.clone()))
                    > (
                        b.score,
                        std::cmp::Reverse(ops[b.op_idx].path.len()),
                        std::cmp::Reverse(ops[b.op_idx].path.clone()),
                    )
            }
        };
        if better {
            if let Some(old) = best.insert(key, c) {
                runners_up.push(format!("{}: {}", old.type_id, ops[old.op_idx].label()));
            }
        } else {
            runners_up.push(format!("{}: {}", c.type_id, ops[c.op_idx].label()));
        }
    }
    let has_accounts = best.values().any(|c| matches!(c.kind, Kind::User | Kind::ServiceAccount));
    if !has_accounts {
        found.extend(non_get_identity_ops(&doc));
        for c in best.values() {
            found.push(format!("{}: {} ({})", ops[c.op_idx].label(), c.kind.label(), c.type_id));
        }
        found.sort();
        found.dedup();
        let reason = if best.is_empty() {
            if ops.is_empty() {
                "the document has no GET operations to read from".to_string()
            } else {
                format!("none of its {} GET operations lists accounts, groups, roles, apps or credentials", ops.len())
            }
        } else {
            "no listing of accounts: without users there is nothing to hold the other objects' access".to_string()
        };
        return DraftOutcome::Park(ParkReport { looked_for, found, reason });
    }
    let mut chosen: Vec<Candidate<'_>> = best.into_values().collect();
    chosen.sort_by_key(|c| (c.kind, c.type_id));
    build(&doc, &ops, chosen, runners_up, opts)
}

/// Identity-looking operations that are not GET listings (RPC-style APIs), and schemes schema v1 cannot
/// express, for the park report.
fn non_get_identity_ops(doc: &Doc<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(paths) = doc.root.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = doc.deref(item) else { continue };
            for method in ["post", "put"] {
                let Some(op) = item.get(method) else { continue };
                let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
                let name = if id.is_empty() { path.as_str() } else { id };
                let w = words::snake(name);
                let parts: Vec<&str> = w.split('_').collect();
                let lists = parts.iter().any(|p| *p == "list" || *p == "search");
                if lists && parts.iter().any(|p| words::classify_noun(p).is_some()) {
                    out.push(format!(
                        "{} {path}{}: an RPC-style action, not a GET listing (its paging token travels in the body, which schema v1 cannot send)",
                        method.to_uppercase(),
                        if id.is_empty() { String::new() } else { format!(" (operationId {id})") }
                    ));
                }
            }
        }
    }
    if out.len() > 12 {
        let n = out.len();
        out.truncate(12);
        out.push(format!("... and {} more such actions", n - 12));
    }
    if let Some(schemes) = doc.security_schemes() {
        for (name, s) in schemes {
            if let Some(t) = s.get("x-amazon-apigateway-authtype").and_then(Value::as_str) {
                out.push(format!(
                    "security scheme `{name}` is {t} request signing, which schema v1 auth cannot express"
                ));
            }
        }
    }
    out
}

fn app_prefix(title: &str) -> String {
    let stop = [
        "the", "a", "an", "api", "rest", "web", "admin", "platform", "cloud", "service", "http", "openapi", "swagger",
        "v1", "v2", "v3",
    ];
    let word = title
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty() && !stop.contains(&w.to_lowercase().as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or("APP");
    let up: String = word.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
    if up.is_empty() || up.starts_with(|c: char| c.is_ascii_digit()) { "APP".into() } else { up }
}

struct Ctx {
    choices: Vec<Choice>,
    env: Vec<EnvVar>,
}

impl Ctx {
    fn choice(
        &mut self,
        what: impl Into<String>,
        confidence: Confidence,
        why: impl Into<String>,
        provenance: impl Into<String>,
    ) {
        self.choices.push(Choice { what: what.into(), confidence, why: why.into(), provenance: provenance.into() });
    }
    fn env(&mut self, name: &str, description: &str) {
        if !self.env.iter().any(|e| e.name == name) {
            self.env.push(EnvVar { name: name.into(), description: description.into() });
        }
    }
}

fn build<'a>(
    doc: &Doc<'a>,
    ops: &[Op<'a>],
    chosen: Vec<Candidate<'a>>,
    runners_up: Vec<String>,
    opts: &DraftOptions,
) -> DraftOutcome {
    let mut cx = Ctx { choices: Vec::new(), env: Vec::new() };
    let title = doc
        .root
        .get("info")
        .and_then(|i| i.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .trim_end_matches('.')
        .to_string();
    let app_name =
        opts.app_name.clone().unwrap_or_else(|| if title.is_empty() { "Drafted app".into() } else { title.clone() });
    let prefix = app_prefix(opts.app_name.as_deref().unwrap_or(&title));
    let (server_path, server_full) = doc.server();

    // ids and names per type
    let mut drafted: Vec<Drafted<'a>> = Vec::new();
    for c in chosen {
        let Some(id) = id_field(&c.listing.item, c.kind, c.type_id) else { continue };
        let fields = Fields::new(doc, &c.listing.item);
        let display = display_field(&fields, c.kind);
        drafted.push(Drafted { cand: c, id_field: id, display_field: display });
    }
    let user_type = drafted
        .iter()
        .find(|d| d.cand.kind == Kind::User)
        .or_else(|| drafted.iter().find(|d| d.cand.kind == Kind::ServiceAccount))
        .map(|d| d.cand.type_id)
        .unwrap_or("user");

    // vars
    let mut vars: Vec<(String, String)> = Vec::new();
    for d in &drafted {
        for v in &d.cand.vars {
            if !vars.iter().any(|x| x.1 == v.1) {
                vars.push(v.clone());
            }
        }
    }
    let chosen_ids: Vec<&'static str> = drafted.iter().map(|d| d.cand.type_id).collect();
    let mems = memberships(doc, ops, &chosen_ids, &vars);
    for m in &mems {
        for v in &m.vars {
            if !vars.iter().any(|x| x.1 == v.1) {
                vars.push(v.clone());
            }
        }
    }

    // auth: the most common scheme among the chosen operations
    let mut op_plans: BTreeMap<usize, Option<AuthPlan>> = BTreeMap::new();
    for d in &drafted {
        op_plans.insert(d.cand.op_idx, op_auth(doc, ops[d.cand.op_idx].op, server_full.as_deref()));
    }
    for m in &mems {
        op_plans.insert(m.op_idx, op_auth(doc, ops[m.op_idx].op, server_full.as_deref()));
    }
    let login = find_login(doc);
    for p in op_plans.values_mut() {
        if let Some(plan) = p.take() {
            *p = Some(with_login(doc, plan, login.as_ref()));
        }
    }
    let mut counts: BTreeMap<String, (usize, AuthPlan)> = BTreeMap::new();
    for p in op_plans.values().flatten() {
        counts.entry(p.scheme.clone()).or_insert((0, p.clone())).0 += 1;
    }
    let source_auth: Option<AuthPlan> =
        counts.values().max_by_key(|(n, p)| (*n, std::cmp::Reverse(p.scheme.clone()))).map(|(_, p)| p.clone());
    let has_schemes = doc.security_schemes().is_some_and(|s| !s.is_empty());

    let mut y = Yaml::default();
    // header
    let src_name =
        if opts.source_name.is_empty() { "the API description".to_string() } else { opts.source_name.clone() };
    let version = doc.root.get("info").and_then(|i| i.get("version")).and_then(Value::as_str).unwrap_or("");
    y.comment(
        0,
        &format!(
            "{app_name} — drafted by `muster draft` from {src_name} ({}{}).",
            doc.version_label(),
            if version.is_empty() { String::new() } else { format!(", API version {version}") }
        ),
    );
    y.comment(0, "Every block names where in the spec it came from and how sure the drafter is. Review the");
    y.comment(0, "`confidence: low` ones (listed at the end of `muster draft`) before `muster check` / `muster test`.");

    // base url
    let base_url = match &opts.base_url {
        Some(b) => b.trim_end_matches('/').to_string(),
        None => {
            let url_var = format!("{prefix}_URL");
            cx.env(
                &url_var,
                &match &server_full {
                    Some(f) => format!(
                        "root URL of the API, without {}; the spec's server is {f}",
                        if server_path.is_empty() { "a path".into() } else { server_path.clone() }
                    ),
                    None => "root URL of the API (scheme and host)".into(),
                },
            );
            format!("${{{url_var}}}{server_path}")
        }
    };

    // source auth env + choices
    if let Some(p) = &source_auth {
        cx.choice("source.http.auth", p.confidence, p.why.clone(), format!("security scheme `{}`", p.scheme));
    } else if has_schemes {
        cx.choice(
            "source.http.auth",
            Low,
            "the spec's security schemes cannot be expressed in schema v1 (e.g. request signing) or none applies to the chosen operations; no auth drafted",
            "securitySchemes",
        );
    } else {
        cx.choice("source.http.auth", Low, "the spec declares no security scheme; no auth drafted", "securitySchemes");
    }

    // collect env for the env header (auth first pass)
    let auth_env = |cx: &mut Ctx, p: &AuthPlan, primary: bool| -> AuthNames {
        let mid = if primary {
            String::new()
        } else {
            let sn = words::snake(&p.scheme).to_uppercase();
            let sn = sn.strip_suffix("_AUTH").filter(|x| !x.is_empty()).unwrap_or(&sn).to_string();
            format!("_{sn}")
        };
        let n = |s: &str| format!("{prefix}{mid}_{s}");
        let names = match &p.kind {
            AuthKind::Basic => AuthNames { user: Some(n("USER")), secret: n("PASSWORD"), client_id: None },
            AuthKind::Bearer | AuthKind::ApiKey { .. } => AuthNames { user: None, secret: n("TOKEN"), client_id: None },
            AuthKind::ClientCredentials { .. } => {
                AuthNames { user: None, secret: n("CLIENT_SECRET"), client_id: Some(n("CLIENT_ID")) }
            }
            AuthKind::Password { .. } => {
                AuthNames { user: Some(n("USER")), secret: n("PASSWORD"), client_id: Some(n("CLIENT_ID")) }
            }
            AuthKind::Login(_) => AuthNames { user: Some(n("USER")), secret: n("PASSWORD"), client_id: None },
        };
        let scheme = &p.scheme;
        if let Some(u) = &names.user {
            cx.env(u, &format!("user name (security scheme `{scheme}`)"));
        }
        if let Some(c) = &names.client_id {
            cx.env(c, &format!("OAuth2 client id (security scheme `{scheme}`)"));
        }
        let what = match &p.kind {
            AuthKind::Basic | AuthKind::Password { .. } | AuthKind::Login(_) => "password",
            AuthKind::Bearer => "bearer token",
            AuthKind::ApiKey { .. } => "API key / token",
            AuthKind::ClientCredentials { .. } => "OAuth2 client secret",
        };
        cx.env(&names.secret, &format!("{what} (security scheme `{scheme}`)"));
        names
    };
    let source_names = source_auth.as_ref().map(|p| auth_env(&mut cx, p, true));
    let mut override_names: BTreeMap<String, AuthNames> = BTreeMap::new();
    for p in op_plans.values().flatten() {
        if source_auth.as_ref().is_some_and(|s| s.scheme == p.scheme) || override_names.contains_key(&p.scheme) {
            continue;
        }
        let names = auth_env(&mut cx, p, false);
        cx.choice(
            format!("request.auth ({})", p.scheme),
            p.confidence,
            format!("{}; used only by the operations that require it", p.why),
            format!("security scheme `{}`", p.scheme),
        );
        override_names.insert(p.scheme.clone(), names);
    }
    for (_, var) in &vars {
        cx.env(
            &format!("{prefix}_{}", var.to_uppercase()),
            &format!("value of the `{var}` path parameter the listings are scoped to"),
        );
    }

    // env header
    y.comment(0, "");
    y.comment(0, "Environment:");
    let width = cx.env.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let env_lines: Vec<String> = cx.env.iter().map(|e| format!("  {:width$}  {}", e.name, e.description)).collect();
    for l in env_lines {
        y.comment(0, &l);
    }
    y.out.push_str("version: 1\n");
    y.open(0, "app");
    y.kv(1, "name", &app_name);
    y.comment(1, "placeholder: who answers for this connector — confidence: low");
    y.kv(1, "owner", "iam-team@example.com");
    let covered: Vec<&str> = drafted.iter().map(|d| d.cand.display).collect();
    y.kv(1, "description", &format!("Drafted from {src_name}: {}.", covered.join(", ")));
    cx.choice(
        "app.owner",
        Low,
        "the spec does not say who owns this connector; `iam-team@example.com` is a placeholder",
        "-",
    );

    if !vars.is_empty() {
        y.open(0, "vars");
        for (p, v) in &vars {
            y.comment(1, &format!("path parameter `{{{p}}}` — confidence: medium"));
            y.kv(1, v, &format!("${{{prefix}_{}}}", v.to_uppercase()));
        }
    }

    y.open(0, "source");
    y.open(1, "http");
    if opts.base_url.is_some() {
        y.comment(2, "from --base-url");
    } else if let Some(f) = &server_full {
        y.comment(2, &format!("the spec's server: {f}"));
    }
    y.kv(2, "base_url", &base_url);
    if let (Some(p), Some(n)) = (&source_auth, &source_names) {
        y.comment(2, &format!("{} — confidence: {}", p.why, p.confidence));
        write_auth(&mut y, 2, p, n);
    }
    y.open(2, "retry");
    y.raw(3, "max_attempts", "5");
    y.open(2, "rate_limit");
    y.comment(3, "the spec documents no rate limit; stay gentle — confidence: low");
    y.raw(3, "per_second", "10");
    y.raw(3, "max_concurrency", "4");

    y.open(0, "resource_types");
    let mut summary = Vec::new();
    let type_ids: Vec<&'static str> = drafted.iter().map(|d| d.cand.type_id).collect();
    let auth_for = |op_idx: usize| -> Option<(AuthPlan, AuthNames)> {
        let p = op_plans.get(&op_idx)?.as_ref()?;
        if source_auth.as_ref().is_some_and(|s| s.scheme == p.scheme) {
            return None;
        }
        let n = override_names.get(&p.scheme)?;
        Some((p.clone(), n.clone()))
    };
    for (i, d) in drafted.iter().enumerate() {
        if i > 0 {
            y.blank();
        }
        let c = &d.cand;
        let op = &ops[c.op_idx];
        let prov = provenance(op, c.listing.item_ptr.as_deref());
        let conf = if c.score >= 14 {
            High
        } else if c.score >= 10 {
            Medium
        } else {
            Low
        };
        summary.push(format!("{} ({}): {}", c.type_id, c.kind.trait_name(), op.label()));
        cx.choice(
            format!("{}.list", c.type_id),
            conf,
            format!("best-scoring listing of {} (score {})", c.kind.label(), c.score),
            prov.clone(),
        );
        y.open(1, c.type_id);
        y.comment(2, &format!("from {prov} — confidence: {conf}"));
        for n in &c.notes {
            y.comment(2, n);
        }
        y.kv(2, "display_name", c.display);
        y.raw(2, "traits", &format!("[{}]", c.kind.trait_name()));
        y.open(2, "list");
        let path = rewrite_path(&op.path, &c.vars, None);
        write_request(&mut y, 3, &path, &c.listing.query, auth_for(c.op_idx).as_ref(), None);
        write_listing(&mut y, 3, &c.listing, &mut cx, c.type_id, &prov);
        // map
        let fields = Fields::new(doc, &c.listing.item);
        y.open(3, "map");
        y.kv(4, "id", &format!("item.{}", d.id_field));
        if d.id_field != "id" {
            cx.choice(
                format!("{}.map.id", c.type_id),
                Medium,
                format!("no `id` field; `{}` is the row's identifier", d.id_field),
                prov.clone(),
            );
        }
        if let Some(dn) = &d.display_field {
            let req = fields.all.iter().any(|(k, _, r)| k == dn && *r);
            y.kv(4, "display_name", &access(dn, req));
        }
        if c.kind != Kind::User
            && c.kind != Kind::ServiceAccount
            && let Some((k, _, r)) = fields.find(&["description", "desc", "summary"], |f| f.is_string())
            && !k.contains('.')
            && d.display_field.as_deref() != Some(k.as_str())
        {
            y.kv(4, "description", &access(k, *r));
        }
        if let Some((expr, why)) = status_expr(&fields, &mut cx.choices, c.type_id, &prov) {
            y.comment(4, &format!("{why}; disabled rows are kept, as disabled"));
            y.kv(4, "status", &expr);
        }
        match c.kind {
            Kind::User | Kind::ServiceAccount => write_user_map(&mut y, &fields, c, &mut cx, &prov),
            Kind::Secret => write_secret_map(&mut y, &fields, c, &type_ids, user_type, &mut cx, &prov),
            _ => {}
        }
        write_profile(&mut y, &fields, c.kind);

        // entitlements
        if let Some(m) = mems.iter().find(|m| m.container == c.type_id) {
            write_membership(&mut y, doc, ops, m, d, &drafted, user_type, &mut cx, auth_for(m.op_idx).as_ref());
            summary.push(format!(
                "{} entitlement `{}`: {}",
                c.type_id,
                if c.kind == Kind::Role { "assigned" } else { "member" },
                ops[m.op_idx].label()
            ));
        }
    }
    for r in runners_up {
        cx.choice("alternative listing not used", Low, r, "-");
    }

    let yaml = y.out;
    let checked = muster_spec::check(&yaml, "draft.yaml");
    let mut check_errors = Vec::new();
    let mut check_warnings = Vec::new();
    for d in &checked.diagnostics {
        let line = d.span.map(|s| format!("{}:{}: ", s.line, s.col)).unwrap_or_default();
        let text = format!("{line}[{}] {}", d.code, d.message);
        if d.is_error() {
            check_errors.push(text);
        } else {
            check_warnings.push(text);
        }
    }
    // stable order: low confidence first, then by what
    let mut choices = cx.choices;
    choices.sort_by(|a, b| a.confidence.cmp(&b.confidence).then_with(|| a.what.cmp(&b.what)));
    choices.dedup();
    DraftOutcome::Connector { yaml, choices, env: cx.env, summary, check_errors, check_warnings }
}

#[derive(Clone)]
struct AuthNames {
    user: Option<String>,
    secret: String,
    client_id: Option<String>,
}

fn provenance(op: &Op<'_>, ptr: Option<&str>) -> String {
    match ptr {
        Some(p) => format!("{}, schema {p}", op.label()),
        None => op.label(),
    }
}

fn rewrite_path(path: &str, vars: &[(String, String)], container: Option<(&str, &str)>) -> String {
    let mut out = path.to_string();
    for (p, v) in vars {
        out = out.replace(&format!("{{{p}}}"), &format!("{{vars.{v}}}"));
    }
    if let Some((p, with)) = container {
        out = out.replace(&format!("{{{p}}}"), with);
    }
    out
}

fn write_auth(y: &mut Yaml, indent: usize, p: &AuthPlan, n: &AuthNames) {
    y.open(indent, "auth");
    let i = indent + 1;
    let env = |s: &str| format!("${{{s}}}");
    match &p.kind {
        AuthKind::Basic => {
            y.kv(i, "type", "basic");
            y.kv(i, "username", &env(n.user.as_deref().unwrap_or("USER")));
            y.kv(i, "password", &env(&n.secret));
        }
        AuthKind::Bearer => {
            y.kv(i, "type", "bearer");
            y.kv(i, "token", &env(&n.secret));
        }
        AuthKind::ApiKey { header, query, prefix } => {
            y.kv(i, "type", "api_key");
            if let Some(h) = header {
                y.kv(i, "header", h);
            }
            if let Some(q) = query {
                y.kv(i, "query", q);
            }
            if let Some(pf) = prefix {
                y.kv(i, "prefix", pf);
            }
            y.kv(i, "key", &env(&n.secret));
        }
        AuthKind::ClientCredentials { token_url, scopes } => {
            y.kv(i, "type", "oauth2_client_credentials");
            y.kv(i, "token_url", token_url);
            y.kv(i, "client_id", &env(n.client_id.as_deref().unwrap_or("CLIENT_ID")));
            y.kv(i, "client_secret", &env(&n.secret));
            if !scopes.is_empty() && scopes.len() <= 10 {
                y.comment(i, "the scopes the spec declares; keep only the read scopes you need");
                y.raw(i, "scopes", &format!("[{}]", scopes.iter().map(|s| scalar(s)).collect::<Vec<_>>().join(", ")));
            }
        }
        AuthKind::Password { token_url } => {
            y.kv(i, "type", "oauth2_password");
            y.kv(i, "token_url", token_url);
            y.kv(i, "client_id", &env(n.client_id.as_deref().unwrap_or("CLIENT_ID")));
            y.kv(i, "username", &env(n.user.as_deref().unwrap_or("USER")));
            y.kv(i, "password", &env(&n.secret));
        }
        AuthKind::Login(l) => {
            y.kv(i, "type", "login");
            y.comment(i, &format!("from {}", l.label));
            y.kv(i, "path", &l.path);
            y.open(i, "body");
            y.kv(i + 1, &l.user_field, &env(n.user.as_deref().unwrap_or("USER")));
            y.kv(i + 1, &l.password_field, &env(&n.secret));
            y.kv(i, "token_path", &l.token_path);
            if let Some(p) = &l.expires_in_path {
                y.kv(i, "expires_in_path", p);
            } else if let Some(p) = &l.expires_at_path {
                y.kv(i, "expires_at_path", p);
            }
        }
    }
}

fn write_request(
    y: &mut Yaml,
    indent: usize,
    path: &str,
    query: &[(String, String, String)],
    auth: Option<&(AuthPlan, AuthNames)>,
    extra_query: Option<(&str, &str)>,
) {
    y.open(indent, "request");
    y.kv(indent + 1, "path", path);
    if !query.is_empty() || extra_query.is_some() {
        y.open(indent + 1, "query");
        if let Some((k, v)) = extra_query {
            y.kv(indent + 2, k, v);
        }
        for (k, v, why) in query {
            y.comment(indent + 2, why);
            y.kv(indent + 2, k, v);
        }
    }
    if let Some((p, n)) = auth {
        y.comment(
            indent + 1,
            &format!(
                "this operation requires security scheme `{}`, not the source's — confidence: {}",
                p.scheme, p.confidence
            ),
        );
        write_auth(y, indent + 1, p, n);
    }
}

fn write_listing(y: &mut Yaml, indent: usize, l: &Listing<'_>, cx: &mut Ctx, what: &str, prov: &str) {
    if let Some(ip) = &l.items_path {
        y.kv(indent, "items", ip);
    }
    cx.choices.extend(l.scoping.iter().cloned().map(|mut c| {
        c.what = format!("{what}: {}", c.what);
        c
    }));
    cx.choice(format!("{what} pagination"), l.pag_conf, l.pag_why.clone(), prov.to_string());
    y.comment(indent, &format!("{} — confidence: {}", l.pag_why, l.pag_conf));
    y.open(indent, "pagination");
    let i = indent + 1;
    match &l.pag {
        Pag::None => y.kv(i, "type", "none"),
        Pag::Offset { offset_param, limit_param, limit, total } => {
            y.kv(i, "type", "offset");
            if offset_param != "offset" {
                y.kv(i, "offset_param", offset_param);
            }
            if limit_param != "limit" {
                y.kv(i, "limit_param", limit_param);
            }
            y.raw(i, "limit", &limit.to_string());
            if let Some(t) = total {
                y.kv(i, "total", t);
            }
        }
        Pag::Page { page_param, size_param, size, start, total, total_pages } => {
            y.kv(i, "type", "page");
            if page_param != "page" {
                y.kv(i, "page_param", page_param);
            }
            if let (Some(sp), Some(sz)) = (size_param, size) {
                y.kv(i, "size_param", sp);
                y.raw(i, "size", &sz.to_string());
            }
            if let Some(s) = start {
                y.raw(i, "start", &s.to_string());
            }
            if let Some(t) = total_pages {
                y.kv(i, "total_pages", t);
            }
            if let Some(t) = total {
                y.kv(i, "total", t);
            }
        }
        Pag::Cursor { param, cursor_path, cursor_header, size_param, size } => {
            y.kv(i, "type", "cursor");
            if param != "cursor" {
                y.kv(i, "param", param);
            }
            if let Some(c) = cursor_path {
                y.kv(i, "cursor_path", c);
            }
            if let Some(h) = cursor_header {
                y.kv(i, "cursor_header", h);
            }
            if let (Some(sp), Some(sz)) = (size_param, size) {
                y.kv(i, "size_param", sp);
                y.raw(i, "size", &sz.to_string());
            }
        }
        Pag::NextLink { path } => {
            y.kv(i, "type", "next_link");
            y.kv(i, "path", path);
        }
        Pag::LinkHeader => y.kv(i, "type", "link_header"),
        Pag::Scim { count } => {
            y.kv(i, "type", "scim");
            y.raw(i, "count", &count.to_string());
        }
    }
}

fn display_field(fields: &Fields<'_>, kind: Kind) -> Option<String> {
    let names: &[&str] = match kind {
        Kind::User | Kind::ServiceAccount => &[
            "displayName",
            "display_name",
            "full_name",
            "fullName",
            "realName",
            "real_name",
            "profile.real_name",
            "profile.display_name",
            "name",
            "username",
            "userName",
            "login",
            "email",
        ],
        _ => &[
            "displayName",
            "display_name",
            "name",
            "title",
            "label",
            "clientId",
            "client_id",
            "description",
            "handle",
            "slug",
        ],
    };
    fields
        .find(names, |f| f.is_string() || f.types.is_empty())
        .map(|(k, _, _)| k.clone())
        .filter(|k| !words::is_secret_value_field(k.rsplit('.').next().unwrap_or(k)))
}

fn write_user_map(y: &mut Yaml, fields: &Fields<'_>, c: &Candidate<'_>, cx: &mut Ctx, prov: &str) {
    let mut lines: Vec<(String, String, Option<String>)> = Vec::new();
    let strish = |f: &Flat<'_>| f.is_string() || f.types.is_empty();
    if let Some((k, _, r)) = fields.find(
        &[
            "email",
            "emailAddress",
            "email_address",
            "mail",
            "primaryEmail",
            "primary_email",
            "profile.email",
            "emails.primary",
        ],
        strish,
    ) {
        lines.push(("email".into(), access(k, *r), None));
    }
    let login = fields.find(
        &[
            "userName",
            "username",
            "user_name",
            "login",
            "loginName",
            "login_name",
            "preferred_username",
            "handle",
            "screen_name",
            "name",
        ],
        strish,
    );
    if let Some((k, _, r)) = login {
        lines.push(("login".into(), access(k, *r), None));
    }
    // account type
    let at_enum = fields.find(
        &[
            "type",
            "accountType",
            "account_type",
            "userType",
            "user_type",
            "kind",
            "principalType",
            "identityType",
            "category",
        ],
        |f| f.is_string() && f.enum_values.iter().any(|v| words::account_type_of_value(v).is_some()),
    );
    let mut at_expr: Option<(String, String, Confidence)> = None;
    if let Some((k, f, r)) = at_enum {
        let mut service = Vec::new();
        let mut system = Vec::new();
        for v in &f.enum_values {
            match words::account_type_of_value(v) {
                Some("service") => service.push(cel_str(v)),
                Some("system") => system.push(cel_str(v)),
                _ => {}
            }
        }
        let acc = if *r && !k.contains('.') {
            format!("item.{k}")
        } else {
            format!("item.?{}.orValue('')", k.replace('.', ".?"))
        };
        let mut e = "'human'".to_string();
        if !system.is_empty() {
            e = format!("{acc} in [{}] ? 'system' : {e}", system.join(", "));
        }
        if !service.is_empty() {
            e = if service.len() == 1 && system.is_empty() {
                format!("{acc} == {} ? 'service' : 'human'", service[0])
            } else {
                format!("{acc} in [{}] ? 'service' : {}", service.join(", "), paren(&e))
            };
        }
        at_expr = Some((e, format!("`{k}` enum ({}): non-human values → service", f.enum_values.join(", ")), High));
    } else {
        let mut flags = Vec::new();
        for (k, f, r) in &fields.all {
            if k.contains('.') && !k.starts_with("profile.") {
                continue;
            }
            let leaf = norm(k.rsplit('.').next().unwrap_or(k));
            let flag_names = [
                "isbot",
                "bot",
                "isappuser",
                "isserviceaccount",
                "serviceaccount",
                "isrobot",
                "robot",
                "ismachine",
                "machine",
                "isintegration",
                "isapp",
                "isservice",
            ];
            if f.is_bool() && flag_names.contains(&leaf.as_str()) {
                flags.push(if *r && !k.contains('.') {
                    format!("item.{k}")
                } else {
                    format!("item.?{}.orValue(false)", k.replace('.', ".?"))
                });
            } else if f.is_string() && (leaf.starts_with("serviceaccount") || leaf == "botid") && !k.contains('.') {
                flags.push(format!("has(item.{k})"));
            }
        }
        if !flags.is_empty() {
            flags.truncate(3);
            at_expr = Some((
                format!("{} ? 'service' : 'human'", flags.join(" || ")),
                "bot/service-account flags → service".into(),
                Medium,
            ));
        }
    }
    match (&at_expr, c.kind) {
        (Some((e, why, conf)), _) => {
            cx.choice(format!("{}.map.user.account_type", c.type_id), *conf, why.clone(), prov.to_string());
            lines.push(("account_type".into(), e.clone(), Some(format!("{why} — confidence: {conf}"))));
        }
        (None, Kind::ServiceAccount) => {
            lines.push(("account_type".into(), "'service'".into(), Some("a service-account listing".into())))
        }
        (None, _) => cx.choice(
            format!("{}.map.user.account_type", c.type_id),
            Low,
            "no account-type field or bot flag in the schema; service accounts cannot be told from people",
            prov.to_string(),
        ),
    }
    if let Some((k, _, r)) = fields.find(
        &[
            "lastLoginAt",
            "last_login",
            "lastLogin",
            "last_login_at",
            "lastSignInAt",
            "last_sign_in_at",
            "lastSignIn",
            "lastLoginTime",
            "last_login_time",
            "lastLoginDate",
            "lastSeenAt",
            "last_seen_at",
            "last_seen",
            "lastAccessAt",
            "lastActive",
            "last_active_at",
            "lastAuthenticated",
        ],
        scalarish,
    ) {
        lines.push(("last_login".into(), access(k, *r), None));
    }
    if let Some((k, _, r)) = fields.find(
        &[
            "mfaEnabled",
            "mfa_enabled",
            "has_2fa",
            "has2fa",
            "twoFactorEnabled",
            "two_factor_enabled",
            "mfa",
            "totp",
            "otpEnabled",
            "isMfaEnabled",
            "is_mfa_enabled",
            "mfaActive",
            "two_factor_authentication",
        ],
        boolish,
    ) {
        lines.push(("mfa".into(), access(k, *r), None));
    }
    if lines.iter().all(|(k, _, _)| k != "email" && k != "login") {
        cx.choice(
            format!("{}.map.user", c.type_id),
            Low,
            "no email or login field in the schema; accounts cannot be matched to people",
            prov.to_string(),
        );
    }
    y.open(4, "user");
    for (k, v, comment) in lines {
        if let Some(cm) = comment {
            y.comment(5, &cm);
        }
        y.kv(5, &k, &v);
    }
}

fn write_secret_map(
    y: &mut Yaml,
    fields: &Fields<'_>,
    c: &Candidate<'_>,
    type_ids: &[&str],
    user_type: &str,
    cx: &mut Ctx,
    prov: &str,
) {
    let kind = match c.type_id {
        "api_token" => "token",
        "api_key" => "api_key",
        _ => "key",
    };
    y.comment(4, "metadata only: the credential's value is never mapped");
    y.open(4, "secret");
    y.kv(5, "kind", &format!("'{kind}'"));
    let strish = |f: &Flat<'_>| f.is_string() || f.types.is_empty() || f.is_number();
    let owner = fields
        .find(
            &[
                "ownerId",
                "owner_id",
                "userId",
                "user_id",
                "owner.id",
                "user.id",
                "createdBy.id",
                "created_by.id",
                "accountId",
                "account_id",
                "principalId",
            ],
            strish,
        )
        .filter(|_| type_ids.contains(&user_type));
    if let Some((k, _, r)) = owner {
        y.open(5, "owner");
        y.kv(6, "type", user_type);
        y.kv(6, "id", &access(k, *r));
    } else {
        cx.choice(
            format!("{}.map.secret.owner", c.type_id),
            Low,
            "no owner field found in the schema; tokens will have no owner",
            prov.to_string(),
        );
    }
    for (key, names) in [
        (
            "created_at",
            &[
                "createdAt",
                "created_at",
                "created",
                "creationDate",
                "creation_date",
                "issuedAt",
                "issued_at",
                "dateCreated",
                "date_created",
                "createdDate",
            ][..],
        ),
        (
            "expires_at",
            &[
                "expiresAt",
                "expires_at",
                "expires",
                "expiry",
                "expiration",
                "expirationDate",
                "expiration_date",
                "validUntil",
                "valid_until",
                "expiryDate",
            ][..],
        ),
        (
            "last_used_at",
            &[
                "lastUsedAt",
                "last_used_at",
                "last_used",
                "lastUsed",
                "lastUsedDate",
                "lastAccessedAt",
                "last_accessed_at",
                "lastAccess",
                "last_access",
            ][..],
        ),
    ] {
        if let Some((k, _, r)) = fields.find(names, scalarish) {
            y.kv(5, key, &access(k, *r));
        }
    }
}

fn write_profile(y: &mut Yaml, fields: &Fields<'_>, kind: Kind) {
    let mut prof: Vec<(String, String)> = Vec::new();
    let mut want: Vec<(&str, &[&str])> = vec![(
        "created",
        &[
            "createdAt",
            "created_at",
            "created",
            "createdTimestamp",
            "creationDate",
            "dateCreated",
            "date_created",
            "createdDate",
        ],
    )];
    match kind {
        Kind::User | Kind::ServiceAccount => {
            want.push((
                "is_admin",
                &[
                    "isAdmin",
                    "is_admin",
                    "admin",
                    "site_admin",
                    "siteAdmin",
                    "superuser",
                    "is_superuser",
                    "isSuperuser",
                    "is_staff",
                ],
            ));
        }
        Kind::Secret => {
            want.push((
                "prefix",
                &["prefix", "tokenPrefix", "token_prefix", "keyPrefix", "key_prefix", "last4", "lastFour"],
            ));
            want.push(("scopes", &["scopes", "scope", "permissions"]));
        }
        Kind::App => {
            want.push(("client_id", &["clientId", "client_id"]));
        }
        _ => {}
    }
    for (name, cands) in want {
        if kind == Kind::Secret && name == "created" {
            continue;
        }
        if let Some((k, _, r)) = fields.find(cands, any)
            && !k.contains('.')
            && !words::is_secret_value_field(k)
            && !muster_spec::compile::looks_secret_name(k)
        {
            prof.push((name.to_string(), access(k, *r)));
        }
    }
    if !prof.is_empty() {
        y.open(4, "profile");
        for (k, v) in prof {
            y.kv(5, &k, &v);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_membership(
    y: &mut Yaml,
    doc: &Doc<'_>,
    ops: &[Op<'_>],
    m: &Membership<'_>,
    container: &Drafted<'_>,
    drafted: &[Drafted<'_>],
    user_type: &str,
    cx: &mut Ctx,
    auth: Option<&(AuthPlan, AuthNames)>,
) {
    let op = &ops[m.op_idx];
    let prov = provenance(op, m.listing.item_ptr.as_deref());
    let slug = if container.cand.kind == Kind::Role { "assigned" } else { "member" };
    let what = format!("{}.entitlements.{slug}", container.cand.type_id);
    let fields = Fields::new(doc, &m.listing.item);
    // which resource value names the container
    let cp = norm(&m.container_param);
    let id_like = cp == "id" || cp.ends_with("id") || cp.ends_with("uuid") || cp.ends_with("key");
    let name_display = container.display_field.as_deref().is_some_and(|d| {
        let d = norm(d);
        d == "name" || d.ends_with("name") || d == "login" || d == "slug"
    });
    let by_name_ok = m.by_name && name_display;
    let ambiguous = !id_like && !m.by_name;
    let use_name = by_name_ok || (ambiguous && name_display && norm(&container.id_field) != "name");
    let resource_ref = if use_name { "{resource.display_name}" } else { "{resource.id}" };
    if ambiguous {
        cx.choice(
            format!("{what}.grants.request"),
            Low,
            format!(
                "`{}` does not say whether it takes the {}'s id or its name; `{resource_ref}` used — check which one the API expects",
                m.container_param, container.cand.type_id
            ),
            prov.clone(),
        );
    } else if m.by_name && !by_name_ok {
        cx.choice(
            format!("{what}.grants.request"),
            Low,
            format!(
                "`{}` names the {} by name, but its name field is not known; `{{resource.id}}` used",
                m.container_param, container.cand.type_id
            ),
            prov.clone(),
        );
    } else if by_name_ok {
        cx.choice(
            format!("{what}.grants.request"),
            Medium,
            format!(
                "`{}` takes the {}'s name: `{{resource.display_name}}` (keep display_name the raw name)",
                m.container_param, container.cand.type_id
            ),
            prov.clone(),
        );
    }
    // principal
    let user_item_ptr =
        drafted.iter().find(|d| d.cand.type_id == user_type).and_then(|d| d.cand.listing.item_ptr.clone());
    let user_id_field =
        drafted.iter().find(|d| d.cand.type_id == user_type).map(|d| d.id_field.clone()).unwrap_or_else(|| "id".into());
    let strish = |f: &Flat<'_>| f.is_string() || f.types.is_empty() || f.is_number();
    let (principal_expr, p_conf, p_why) = if m.listing.item_is_string {
        ("item".to_string(), Medium, "rows are bare ids".to_string())
    } else if m.listing.item_ptr.is_some() && m.listing.item_ptr == user_item_ptr {
        (
            format!("item.{user_id_field}"),
            High,
            format!("rows are {user_type} objects (same schema); same id as the {user_type} listing"),
        )
    } else if let Some((k, _, r)) = fields.find(
        &[
            "userId",
            "user_id",
            "principalId",
            "principal_id",
            "memberId",
            "member_id",
            "accountId",
            "account_id",
            "user.id",
            "member.id",
            "principal.id",
            "user.accountId",
        ],
        strish,
    ) {
        (
            if *r && !k.contains('.') { format!("item.{k}") } else { access(k, false) },
            High,
            format!("`{k}` holds the member's id"),
        )
    } else if let Some((k, _, _)) = fields.find(&[user_id_field.as_str(), "id"], strish) {
        (format!("item.{k}"), Medium, format!("rows look like accounts; `{k}` read as the {user_type} id"))
    } else {
        cx.choice(
            format!("{what}.grants"),
            Low,
            "no member id field in the membership rows; not drafted",
            prov.clone(),
        );
        return;
    };
    cx.choice(format!("{what}.grants.map.principal"), p_conf, p_why.clone(), prov.clone());
    // principal type from an enum naming drafted types
    let type_ids: Vec<&str> = drafted.iter().map(|d| d.cand.type_id).collect();
    let mut type_from: Option<(String, Vec<String>)> = None;
    if !m.listing.item_is_string
        && let Some((k, f, r)) = fields.find(
            &["principalType", "principal_type", "memberType", "member_type", "type", "kind", "assigneeType"],
            |f| f.is_string() && !f.enum_values.is_empty(),
        )
    {
        let mut pairs: Vec<(String, &str)> = Vec::new();
        for v in &f.enum_values {
            let t = words::classify_noun(v)
                .map(|c| c.1)
                .filter(|t| type_ids.contains(t))
                .or_else(|| type_ids.iter().copied().find(|t| norm(t) == norm(v)));
            if let Some(t) = t {
                pairs.push((v.clone(), t));
            }
        }
        let distinct: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.1).collect();
        if distinct.len() >= 2 {
            let acc = if *r { format!("item.{k}") } else { format!("item.?{k}.orValue('')") };
            let mut e = cel_str(user_type);
            for (v, t) in pairs.iter().rev() {
                if *t != user_type {
                    e = format!("{acc} == {} ? {} : {e}", cel_str(v), cel_str(t));
                }
            }
            let mut g: Vec<String> = vec![user_type.to_string()];
            for t in distinct {
                if t != user_type {
                    g.push(t.to_string());
                }
            }
            type_from = Some((e, g));
        }
    }
    // skip pending
    let skip = fields.find(
        &[
            "state",
            "status",
            "membershipState",
            "membership_state",
            "membershipStatus",
            "membership_status",
            "invitationStatus",
            "invitation_status",
            "inviteStatus",
        ],
        |f| f.enum_values.iter().any(|v| words::is_pending_value(v)),
    );

    y.open(2, "entitlements");
    y.item_kv(3, "id", slug);
    let i = 4;
    y.kv(i, "display_name", if slug == "assigned" { "Assigned" } else { "Member" });
    let grantable: Vec<String> = type_from.as_ref().map(|t| t.1.clone()).unwrap_or_else(|| vec![user_type.to_string()]);
    y.raw(i, "grantable_to", &format!("[{}]", grantable.join(", ")));
    y.open(i, "grants");
    y.comment(i + 1, &format!("from {prov} — confidence: {}", if m.score >= 12 { "high" } else { "medium" }));
    let path = rewrite_path(
        &op.path,
        &m.vars,
        if m.in_query { None } else { Some((m.container_param.as_str(), resource_ref)) },
    );
    let extra = if m.in_query { Some((m.container_param.as_str(), resource_ref)) } else { None };
    write_request(y, i + 1, &path, &m.listing.query, auth, extra);
    write_listing(y, i + 1, &m.listing, cx, &what, &prov);
    if let Some((k, f, r)) = skip {
        let pending: Vec<String> =
            f.enum_values.iter().filter(|v| words::is_pending_value(v)).map(|v| cel_str(v)).collect();
        let acc = if *r && !k.contains('.') {
            format!("item.{k}")
        } else {
            format!("item.?{}.orValue('')", k.replace('.', ".?"))
        };
        let expr = if pending.len() == 1 {
            format!("{acc} == {}", pending[0])
        } else {
            format!("{acc} in [{}]", pending.join(", "))
        };
        y.comment(i + 1, &format!("`{k}` values {} are invitations or requests, not access yet: they become grants once accepted — confidence: high", pending.join(", ")));
        y.kv(i + 1, "skip_if", &expr);
        cx.choice(
            format!("{what}.grants.skip_if"),
            High,
            format!("`{k}` has pending-like values ({})", pending.join(", ")),
            prov.clone(),
        );
    }
    y.open(i + 1, "map");
    y.open(i + 2, "principal");
    y.kv(i + 3, "type", user_type);
    if let Some((e, _)) = &type_from {
        y.kv(i + 3, "type_from", e);
    }
    y.kv(i + 3, "id", &principal_expr);
}

// ───────────────────────────── identity surface, for prompts ─────────────────────────────

/// One operation of the document that matters for identity, ranked for an LLM prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelevantOp {
    /// Lower-case method, as in the document (`get`, `put`, ...).
    pub method: String,
    pub path: String,
    /// Higher is more relevant; prompts trim the lowest first.
    pub score: i32,
    /// Why it is relevant, in a few words.
    pub why: String,
}

/// The identity-relevant operations of an OpenAPI / Swagger document, most relevant first: the listings the
/// deterministic drafter would consider (best per resource type first), membership listings, nested or
/// blocked listings it rejected, and the write operations under membership paths (provisioning).
pub fn identity_operations(root: &Value) -> Vec<RelevantOp> {
    let Some(doc) = Doc::new(root) else { return Vec::new() };
    let ops = collect_ops(&doc);
    let mut found = Vec::new();
    let cands = list_candidates(&doc, &ops, &mut found);
    let mut out: Vec<RelevantOp> = Vec::new();
    let mut best_per_type: BTreeMap<&'static str, i32> = BTreeMap::new();
    for c in &cands {
        let e = best_per_type.entry(c.type_id).or_insert(i32::MIN);
        *e = (*e).max(c.score);
    }
    for c in &cands {
        let top = best_per_type.get(c.type_id).copied() == Some(c.score);
        out.push(RelevantOp {
            method: "get".into(),
            path: ops[c.op_idx].path.clone(),
            // the best listing of each type outranks every runner-up
            score: c.score + if top { 100 } else { 40 },
            why: format!("lists {} ({})", c.kind.label(), c.type_id),
        });
    }
    let chosen: Vec<&'static str> = best_per_type.keys().copied().collect();
    let known_vars: Vec<(String, String)> = cands.iter().flat_map(|c| c.vars.clone()).collect();
    let members = memberships(&doc, &ops, &chosen, &known_vars);
    for m in &members {
        out.push(RelevantOp {
            method: "get".into(),
            path: ops[m.op_idx].path.clone(),
            score: m.score + 90,
            why: format!("lists the members / assignments of one {}", m.container),
        });
    }
    // rejected but identity-named listings (nested, whoami, blocked): context for the model
    for op in &ops {
        if out.iter().any(|o| o.path == op.path) {
            continue;
        }
        let named = op.lits().iter().any(|l| words::classify_noun(l).is_some() || words::is_member_noun(l));
        if named {
            out.push(RelevantOp {
                method: "get".into(),
                path: op.path.clone(),
                score: 20,
                why: "names an identity object (nested, scoped or not a plain listing)".into(),
            });
        }
    }
    // provisioning: writes under a membership listing's path
    let member_paths: Vec<String> = members.iter().map(|m| ops[m.op_idx].path.clone()).collect();
    if let Some(paths) = root.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = doc.deref(item) else { continue };
            if !member_paths.iter().any(|m| path.starts_with(m.as_str())) {
                continue;
            }
            for method in ["put", "post", "delete", "patch"] {
                if item.get(method).is_some_and(Value::is_object) {
                    out.push(RelevantOp {
                        method: method.into(),
                        path: path.clone(),
                        score: 10,
                        why: "changes a membership (provisioning)".into(),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.path.cmp(&b.path)).then_with(|| a.method.cmp(&b.method)));
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|o| seen.insert((o.method.clone(), o.path.clone())));
    out
}
