//! Word tables: which path nouns, field names and enum values mean what.

/// What an identity listing holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    User,
    ServiceAccount,
    Group,
    Role,
    App,
    Secret,
}

impl Kind {
    pub fn trait_name(self) -> &'static str {
        match self {
            Kind::User | Kind::ServiceAccount => "user",
            Kind::Group => "group",
            Kind::Role => "role",
            Kind::App => "app",
            Kind::Secret => "secret",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Kind::User => "users/accounts",
            Kind::ServiceAccount => "service accounts",
            Kind::Group => "groups/teams/orgs",
            Kind::Role => "roles",
            Kind::App => "apps/clients",
            Kind::Secret => "API tokens/keys/credentials",
        }
    }
}

/// Lowercase with `-`, `_` and spaces removed.
pub fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Classify a path noun: (kind, resource type id, display name).
pub fn classify_noun(seg: &str) -> Option<(Kind, &'static str, &'static str)> {
    let n = norm(seg);
    Some(match n.as_str() {
        "users" | "user" | "accounts" | "account" | "people" | "persons" | "identities" | "employees" => {
            (Kind::User, "user", "User")
        }
        "serviceaccounts" | "serviceaccount" | "bots" | "robots" | "robotaccounts" | "machineusers" => {
            (Kind::ServiceAccount, "service_account", "Service account")
        }
        "groups" | "group" | "usergroups" | "usergroup" => (Kind::Group, "group", "Group"),
        "teams" | "team" => (Kind::Group, "team", "Team"),
        "orgs" | "org" | "organizations" | "organization" | "organisations" | "organisation" => {
            (Kind::Group, "org", "Organization")
        }
        "roles" | "role" | "approles" => (Kind::Role, "role", "Role"),
        "applicationrole" | "applicationroles" => (Kind::Role, "application_role", "Application role"),
        "permissions" => (Kind::Role, "permission", "Permission"),
        "apps" | "app" | "applications" | "application" | "integrations" | "oauthapps" => (Kind::App, "app", "App"),
        "clients" | "client" | "oauthclients" => (Kind::App, "client", "Client"),
        "tokens" | "token" | "apitokens" | "accesstokens" | "personalaccesstokens" | "pats" => {
            (Kind::Secret, "api_token", "API token")
        }
        "apikeys" | "apikey" | "keys" | "accesskeys" => (Kind::Secret, "api_key", "API key"),
        "credentials" | "credential" | "secrets" => (Kind::Secret, "credential", "Credential"),
        _ => return None,
    })
}

/// Words in a path that are verbs or qualifiers rather than the collection's noun.
pub fn is_verb(seg: &str) -> bool {
    matches!(
        norm(seg).as_str(),
        "list"
            | "search"
            | "all"
            | "bulk"
            | "get"
            | "find"
            | "query"
            | "lookup"
            | "info"
            | "paginated"
            | "paged"
            | "page"
            | "details"
            | "read"
            | "fetch"
            | "export"
            | "v1"
            | "v2"
            | "v3"
            | "v4"
    )
}

/// Path words that mean "the caller" rather than a listing of everyone.
pub fn is_me(seg: &str) -> bool {
    matches!(
        norm(seg).as_str(),
        "me" | "self" | "myself" | "whoami" | "current" | "currentuser" | "my" | "mine" | "mypermissions"
    )
}

/// Nouns of membership listings under a container (`/groups/{id}/members`).
pub fn is_member_noun(seg: &str) -> bool {
    matches!(
        norm(seg).as_str(),
        "members"
            | "member"
            | "users"
            | "memberships"
            | "assignments"
            | "principals"
            | "accounts"
            | "people"
            | "userids"
    )
}

/// Tenancy-like path parameters that become `vars` with low cost.
pub fn is_tenancy_param(name: &str) -> bool {
    matches!(
        norm(name).as_str(),
        "realm"
            | "tenant"
            | "tenantid"
            | "workspace"
            | "workspaceid"
            | "instance"
            | "site"
            | "siteid"
            | "accountid"
            | "orgid"
            | "domain"
    )
}

pub fn first_present<'a>(props: &[&'a str], candidates: &[&str]) -> Option<&'a str> {
    for c in candidates {
        if let Some(p) = props.iter().find(|p| p.eq_ignore_ascii_case(c) || norm(p) == norm(c)) {
            return Some(p);
        }
    }
    None
}

/// Field names whose values are credentials: never mapped anywhere.
pub fn is_secret_value_field(name: &str) -> bool {
    let n = norm(name);
    matches!(
        n.as_str(),
        "token"
            | "secret"
            | "password"
            | "passwd"
            | "apikey"
            | "key"
            | "privatekey"
            | "clientsecret"
            | "accesstoken"
            | "refreshtoken"
            | "plaintext"
            | "value"
            | "hash"
            | "secretkey"
            | "credential"
            | "credentials"
    ) || muster_spec::compile::looks_secret_name(name)
}

/// Classify an enum value of a status-like field.
pub fn status_of_value(v: &str) -> &'static str {
    let n = norm(v);
    if ["deleted", "deprovisioned", "removed", "terminated", "purged", "destroyed"].iter().any(|w| n.contains(w)) {
        "deleted"
    } else if [
        "disabled",
        "suspended",
        "locked",
        "inactive",
        "deactivated",
        "blocked",
        "banned",
        "archived",
        "revoked",
        "expired",
        "closed",
        "frozen",
    ]
    .iter()
    .any(|w| n.contains(w))
    {
        "disabled"
    } else {
        "enabled"
    }
}

/// Membership states that are not (yet) access.
pub fn is_pending_value(v: &str) -> bool {
    let n = norm(v);
    ["pending", "invited", "requested", "awaiting", "unconfirmed", "invitation", "proposed", "unaccepted"]
        .iter()
        .any(|w| n.contains(w))
}

/// Account-type enum values meaning a non-human account.
pub fn account_type_of_value(v: &str) -> Option<&'static str> {
    let n = norm(v);
    if ["service", "bot", "robot", "app", "application", "integration", "machine", "apikey", "technical", "nonhuman"]
        .iter()
        .any(|w| n.contains(w))
    {
        Some("service")
    } else if ["system", "builtin", "internal"].iter().any(|w| n == *w) {
        Some("system")
    } else {
        None
    }
}

/// Snake-case name from any identifier (`role-name` → `role_name`, `groupId` → `group_id`).
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_matches('_').to_string()
}

/// A CEL identifier can follow `item.` only if it is a plain identifier.
pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            s,
            "in" | "as"
                | "break"
                | "const"
                | "continue"
                | "else"
                | "for"
                | "function"
                | "if"
                | "import"
                | "let"
                | "loop"
                | "package"
                | "namespace"
                | "return"
                | "var"
                | "void"
                | "while"
                | "true"
                | "false"
                | "null"
        )
}
