//! Live cases' servers: start them, and generate their API description (`api.json`) and their truth
//! (`truth.json`, with traps) from the testkit's own truth functions.

use crate::case::{AuthDef, ServerDef, Trap, Truth};
use muster_testkit as tk;
use serde_json::Value;
use std::collections::BTreeMap;

/// The generic scenario a [`ServerDef::Generic`] describes.
pub fn scenario(def: &ServerDef) -> Option<tk::Scenario> {
    let ServerDef::Generic {
        users, groups, members_per_group, pagination, auth, default_page_size, max_page_size, ..
    } = def
    else {
        return None;
    };
    let pagination = match pagination.as_str() {
        "none" => tk::Pagination::None,
        "offset" => tk::Pagination::Offset,
        "page" => tk::Pagination::Page,
        "cursor_body" => tk::Pagination::CursorBody,
        "cursor_header" => tk::Pagination::CursorHeader,
        "next_link_absolute" => tk::Pagination::NextLinkAbsolute,
        "next_link_relative" => tk::Pagination::NextLinkRelative,
        "link_header" => tk::Pagination::LinkHeader,
        "scim" => tk::Pagination::Scim,
        _ => return None,
    };
    let ttl = 3600;
    let auth = match auth.clone() {
        AuthDef::None => tk::Auth::None,
        AuthDef::Basic { user, password } => tk::Auth::Basic { user, password },
        AuthDef::Bearer { token } => tk::Auth::Bearer { token },
        AuthDef::ApiKeyHeader { header, key } => tk::Auth::ApiKeyHeader { header, key },
        AuthDef::ApiKeyQuery { param, key } => tk::Auth::ApiKeyQuery { param, key },
        AuthDef::Oauth2ClientCredentials { client_id, client_secret } => {
            tk::Auth::OAuth2ClientCredentials { client_id, client_secret, token_ttl_s: ttl }
        }
        AuthDef::Oauth2Password { client_id, username, password } => {
            tk::Auth::OAuth2Password { client_id, username, password, token_ttl_s: ttl }
        }
        AuthDef::Login { username, password } => tk::Auth::Login { username, password, token_ttl_s: ttl },
    };
    Some(tk::Scenario {
        users: *users,
        groups: *groups,
        members_per_group: *members_per_group,
        pagination,
        auth,
        default_page_size: *default_page_size,
        max_page_size: *max_page_size,
        ..tk::Scenario::default()
    })
}

/// Credentials by environment-variable suffix, for the drafted connector's `${...}` references.
pub fn credentials(def: &ServerDef) -> BTreeMap<String, String> {
    let mut c = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        c.insert(k.to_string(), v.to_string());
    };
    match def {
        ServerDef::Demo => {
            put("USER", tk::DEMO_USER);
            put("PASSWORD", tk::DEMO_PASSWORD);
            put("TOKEN", tk::DEMO_ADMIN_TOKEN);
        }
        ServerDef::Traps { .. } => {
            put("USER", tk::TRAPS_USER);
            put("PASSWORD", tk::TRAPS_PASSWORD);
        }
        ServerDef::Rpc => put("TOKEN", tk::RPC_TOKEN),
        ServerDef::Dict => put("TOKEN", tk::DICT_KEY),
        ServerDef::Generic { auth, .. } => match auth {
            AuthDef::None => {}
            AuthDef::Basic { user, password } => {
                put("USER", user);
                put("PASSWORD", password);
            }
            AuthDef::Bearer { token } => put("TOKEN", token),
            AuthDef::ApiKeyHeader { key, .. } | AuthDef::ApiKeyQuery { key, .. } => put("TOKEN", key),
            AuthDef::Oauth2ClientCredentials { client_id, client_secret } => {
                put("CLIENT_ID", client_id);
                put("CLIENT_SECRET", client_secret);
            }
            AuthDef::Oauth2Password { client_id, username, password } => {
                put("CLIENT_ID", client_id);
                put("USER", username);
                put("PASSWORD", password);
            }
            // A login API has no long-lived token: only the user name and password exist.
            AuthDef::Login { username, password } => {
                put("USER", username);
                put("PASSWORD", password);
            }
        },
    }
    c
}

/// Start the case's server.
pub fn start(def: &ServerDef) -> Result<tk::TestServer, String> {
    let r = match def {
        ServerDef::Demo => tk::serve_demo(None),
        ServerDef::Generic { .. } => match scenario(def) {
            Some(s) => tk::serve(s),
            None => return Err("unknown pagination style".into()),
        },
        ServerDef::Traps {
            scope_hides_inactive,
            pending_members,
            null_emails,
            clamp_page,
            cap_unpaginated,
            anonymous_subset,
        } => tk::serve_traps(tk::Traps {
            scope_hides_inactive: *scope_hides_inactive,
            pending_members: *pending_members,
            null_emails: *null_emails,
            clamp_page: *clamp_page,
            cap_unpaginated: *cap_unpaginated,
            anonymous_subset: *anonymous_subset,
        }),
        ServerDef::Rpc => tk::serve_rpc_api(),
        ServerDef::Dict => tk::serve_dict_api(),
    };
    r.map_err(|e| format!("cannot start the case's server: {e}"))
}

/// The API description of a live case (servers[0].url is the testkit's placeholder).
pub fn api_doc(def: &ServerDef) -> Value {
    match def {
        ServerDef::Demo => tk::demo_openapi(),
        ServerDef::Generic { title, .. } => match scenario(def) {
            Some(s) => tk::generic_openapi(&s, title),
            None => Value::Null,
        },
        ServerDef::Traps { .. } => tk::traps_openapi(tk::EVAL_PLACEHOLDER_URL),
        ServerDef::Rpc => tk::rpc_openapi(),
        ServerDef::Dict => tk::dict_openapi(),
    }
}

/// Replace the document's placeholder server URL with the live server's.
pub fn point_at(doc: &Value, base: &str) -> Value {
    let mut d = doc.clone();
    if let Some(servers) = d.get_mut("servers").and_then(Value::as_array_mut) {
        for s in servers {
            if let Some(u) = s.get("url").and_then(Value::as_str) {
                let rest = u.strip_prefix(tk::EVAL_PLACEHOLDER_URL).unwrap_or("");
                let live = format!("{base}{rest}");
                if let Some(o) = s.as_object_mut() {
                    o.insert("url".into(), Value::String(live));
                }
            }
        }
    }
    d
}

fn trap(name: &str, description: &str, checks: &[&str]) -> Trap {
    Trap {
        name: name.into(),
        description: description.into(),
        checks: checks.iter().map(|c| c.to_string()).collect(),
        ..Trap::default()
    }
}

fn include(mut t: Trap, key: &str, ids: Vec<String>) -> Trap {
    t.must_include.entry(key.into()).or_default().extend(ids);
    t
}

fn exclude(mut t: Trap, key: &str, ids: Vec<String>) -> Trap {
    t.must_exclude.entry(key.into()).or_default().extend(ids);
    t
}

fn from_eval(t: tk::EvalTruth) -> Truth {
    Truth {
        users: t.users,
        disabled_users: t.disabled_users,
        service_users: t.service_users,
        groups: t.groups,
        memberships: t.memberships,
        roles: t.roles,
        tokens: t.tokens,
        traps: Vec::new(),
    }
}

fn pair((a, b): &(String, String)) -> String {
    format!("{a}/{b}")
}

/// What a live case's API really holds, with its traps.
pub fn truth(def: &ServerDef) -> Truth {
    match def {
        ServerDef::Demo => demo_truth(),
        ServerDef::Generic { .. } => generic_truth(def),
        ServerDef::Traps { .. } => traps_truth(def),
        ServerDef::Rpc => {
            let mut t = from_eval(tk::rpc_truth());
            t.traps = vec![
                include(
                    trap(
                        "rpc-style paths",
                        "listings are RPC methods (`/users.list`, `/usergroups.users.list?usergroup=`), not REST collections",
                        &["completeness"],
                    ),
                    "groups",
                    t.groups.clone(),
                ),
                include(
                    trap(
                        "empty-string cursor",
                        "the last page's `response_metadata.next_cursor` is \"\" (not null): a client that sends it again loops or repeats page 1",
                        &["completeness", "integrity", "sync"],
                    ),
                    "users",
                    t.users.clone(),
                ),
                include(
                    trap(
                        "scalar rows",
                        "`usergroups.users.list` returns bare user-id strings, not objects",
                        &["field coverage", "integrity", "sync"],
                    ),
                    "memberships",
                    t.memberships.clone(),
                ),
                include(
                    trap(
                        "cursor in a JSON request body",
                        "`POST /tokens.list` takes its cursor in the JSON body (5 tokens a page)",
                        &["completeness", "sync"],
                    ),
                    "tokens",
                    t.tokens.clone(),
                ),
                include(
                    trap(
                        "disabled accounts",
                        "deleted users (`deleted: true`) must be kept, as disabled",
                        &["status and NHI"],
                    ),
                    "disabled_users",
                    t.disabled_users.clone(),
                ),
                include(
                    trap("bots", "bots (`is_bot: true`) are service accounts", &["status and NHI"]),
                    "service_users",
                    t.service_users.clone(),
                ),
            ];
            t
        }
        ServerDef::Dict => {
            let mut t = from_eval(tk::dict_truth());
            let team_members: Vec<String> = t
                .memberships
                .iter()
                .filter(|m| !m.starts_with("admin/") && !m.starts_with("auditor/") && !m.starts_with("billing/"))
                .cloned()
                .collect();
            let role_members: Vec<String> =
                t.memberships.iter().filter(|m| !team_members.contains(m)).cloned().collect();
            t.traps = vec![
                include(
                    trap(
                        "dict-shaped collection",
                        "`/v1/teams` is an object keyed by team id, not an array",
                        &["completeness", "field coverage"],
                    ),
                    "groups",
                    t.groups.clone(),
                ),
                include(
                    trap(
                        "embedded memberships",
                        "team members are embedded in each team (`member_ids`), there is no member listing",
                        &["completeness"],
                    ),
                    "memberships",
                    team_members,
                ),
                include(
                    trap(
                        "integer ids",
                        "user ids are JSON integers; role holders reference them as integers",
                        &["integrity"],
                    ),
                    "memberships",
                    role_members,
                ),
                include(
                    trap("next link", "Django-style pages: follow the absolute `next` URL", &["completeness"]),
                    "users",
                    t.users.clone(),
                ),
                include(
                    trap(
                        "disabled accounts",
                        "`is_active: false` users must be kept, as disabled",
                        &["status and NHI"],
                    ),
                    "disabled_users",
                    t.disabled_users.clone(),
                ),
            ];
            t
        }
    }
}

fn generic_truth(def: &ServerDef) -> Truth {
    let Some(s) = scenario(def) else { return Truth::default() };
    let mut t = from_eval(tk::generic_eval_truth(&s));
    let all_users = t.users.clone();
    let paged_trap = match s.pagination {
        tk::Pagination::None => None,
        tk::Pagination::Offset => Some((
            "offset pagination",
            "`offset`/`limit` with a total; the server's default page is smaller than the data",
        )),
        tk::Pagination::Page => Some(("page pagination", "`page`/`per_page` with a total")),
        tk::Pagination::CursorBody => Some(("cursor in the body", "`next_cursor` in the body, null on the last page")),
        tk::Pagination::CursorHeader => Some((
            "cursor in a header",
            "the next cursor is in the `X-Next-Cursor` response header; the body has no hint of more pages",
        )),
        tk::Pagination::NextLinkAbsolute => Some(("next link", "the body's `next` holds the next page's absolute URL")),
        tk::Pagination::NextLinkRelative => {
            Some(("relative next link", "the body's `next` holds a URL relative to the server root"))
        }
        tk::Pagination::LinkHeader => {
            Some(("Link-header cursor", "a bare array; the next page is only in the RFC 8288 `Link` header"))
        }
        tk::Pagination::Scim => {
            Some(("SCIM paging", "`startIndex`/`count`, rows in `Resources`, stop at `totalResults`"))
        }
    };
    if let Some((name, d)) = paged_trap {
        t.traps.push(include(trap(name, d, &["completeness", "sync"]), "users", all_users.clone()));
        t.traps.push(include(
            trap(&format!("{name} (members)"), "member listings page the same way", &["completeness", "sync"]),
            "memberships",
            t.memberships.clone(),
        ));
    }
    match &s.auth {
        tk::Auth::ApiKeyQuery { .. }
            if matches!(s.pagination, tk::Pagination::NextLinkAbsolute | tk::Pagination::NextLinkRelative) =>
        {
            t.traps.push(include(
                trap(
                    "key dropped from next links",
                    "next links do not repeat the `api_key` query parameter: the client must add it to every page",
                    &["auth", "completeness", "sync"],
                ),
                "users",
                all_users.clone(),
            ));
        }
        tk::Auth::OAuth2ClientCredentials { .. } | tk::Auth::OAuth2Password { .. } => {
            t.traps.push(include(
                trap(
                    "token endpoint",
                    "an access token must first be fetched from `POST /oauth/token`",
                    &["auth", "sync"],
                ),
                "users",
                all_users.clone(),
            ));
        }
        tk::Auth::Login { .. } => {
            t.traps.push(include(
                trap("login flow", "a short-lived token must first be fetched from `POST /login` with the user name and password; there is no long-lived token", &["auth", "sync"]),
                "users",
                all_users.clone(),
            ));
        }
        _ => {}
    }
    t.traps.push(include(
        trap("disabled accounts", "`active: false` users must be kept, as disabled", &["status and NHI"]),
        "disabled_users",
        t.disabled_users.clone(),
    ));
    t
}

fn traps_truth(def: &ServerDef) -> Truth {
    let ServerDef::Traps {
        scope_hides_inactive,
        pending_members,
        null_emails,
        clamp_page,
        cap_unpaginated,
        anonymous_subset,
    } = def
    else {
        return Truth::default();
    };
    let users = tk::traps_user_ids();
    let inactive = tk::traps_inactive_user_ids();
    let active: Vec<String> = tk::traps_active_memberships().iter().map(pair).collect();
    let mut t = Truth {
        users: users.clone(),
        disabled_users: inactive.clone(),
        service_users: Vec::new(),
        groups: tk::traps_group_ids(),
        memberships: active.clone(),
        roles: Vec::new(),
        tokens: Vec::new(),
        traps: Vec::new(),
    };
    if *scope_hides_inactive {
        t.traps.push(include(
            trap(
                "scoping parameter",
                "`/users` hides inactive users unless `status=all`",
                &["under-sync probes", "completeness"],
            ),
            "users",
            inactive.clone(),
        ));
    }
    if *pending_members {
        t.traps.push(exclude(
            include(
                trap(
                    "pending rows",
                    "member listings include `state: pending` invitations, which are not memberships",
                    &["integrity"],
                ),
                "memberships",
                active.clone(),
            ),
            "memberships",
            tk::traps_pending_memberships().iter().map(pair).collect(),
        ));
    }
    if *null_emails {
        t.traps.push(include(
            trap("nullable fields", "every 7th user's `email` is null", &["field coverage", "sync"]),
            "users",
            tk::traps_null_email_user_ids(),
        ));
    }
    if clamp_page.is_some() {
        t.traps.push(include(
            trap("clamped page size", "`/users` silently clamps `limit` and omits `total`", &["completeness"]),
            "users",
            users.clone(),
        ));
    }
    if cap_unpaginated.is_some() {
        t.traps.push(include(
            trap(
                "capped unpaginated listing",
                "`/users/all` (no paging) returns only the first rows",
                &["completeness"],
            ),
            "users",
            users.clone(),
        ));
    }
    if *anonymous_subset {
        t.traps.push(include(
            trap("anonymous subset", "without credentials `/users` answers 200 with a public subset", &["auth"]),
            "users",
            users.iter().skip(tk::ANONYMOUS_SUBSET).cloned().collect(),
        ));
    }
    t.traps.push(include(
        trap("disabled accounts", "`active: false` users must be kept, as disabled", &["status and NHI"]),
        "disabled_users",
        inactive,
    ));
    t
}

fn demo_truth() -> Truth {
    let d = tk::demo_truth();
    let mut memberships: Vec<String> = d.active_memberships.iter().map(pair).collect();
    let role_assignments: Vec<String> = d.role_assignments.iter().map(|(r, p, _)| format!("{r}/{p}")).collect();
    let group_principals: Vec<String> =
        d.role_assignments.iter().filter(|(_, _, ty)| ty == "group").map(|(r, p, _)| format!("{r}/{p}")).collect();
    memberships.extend(role_assignments);
    let mut t = Truth {
        users: d.user_ids.clone(),
        disabled_users: d.disabled_user_ids.clone(),
        service_users: d.service_account_ids.clone(),
        groups: d.group_ids.clone(),
        memberships,
        roles: d.role_ids.clone(),
        tokens: d.tokens.iter().map(|t| t.id.clone()).collect(),
        traps: Vec::new(),
    };
    t.traps = vec![
        exclude(
            include(
                trap("pending rows", "group member listings include `state: pending` invitations", &["integrity"]),
                "memberships",
                d.active_memberships.iter().map(pair).collect(),
            ),
            "memberships",
            d.pending_memberships.iter().map(pair).collect(),
        ),
        include(
            trap("disabled accounts", "one human has `active: false`; kept, as disabled", &["status and NHI"]),
            "disabled_users",
            d.disabled_user_ids.clone(),
        ),
        include(
            trap("service accounts", "`type: service` users are service accounts", &["status and NHI"]),
            "service_users",
            d.service_account_ids.clone(),
        ),
        include(
            trap("nullable fields", "15 users have `email: null`", &["field coverage", "sync"]),
            "users",
            d.users_without_email.clone(),
        ),
        include(
            trap(
                "Link-header cursor",
                "roles are a bare array paged by an RFC 8288 `Link` header",
                &["completeness", "sync"],
            ),
            "roles",
            d.role_ids.clone(),
        ),
        include(
            trap("relative next link", "tokens page by a relative `links.next` URL", &["completeness", "sync"]),
            "tokens",
            d.tokens.iter().map(|t| t.id.clone()).collect(),
        ),
        include(
            trap("second auth scheme", "`/admin/*` needs a bearer token, not the basic credentials", &["auth", "sync"]),
            "roles",
            d.role_ids.clone(),
        ),
        include(
            trap("group principals", "role assignments name groups as well as users", &["integrity"]),
            "memberships",
            group_principals,
        ),
    ];
    t
}
