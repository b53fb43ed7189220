//! The raw connector schema, version 1: what a person writes. Doc comments here become the JSON Schema
//! (`schema/connector.v1.json`) and the field reference (`docs/reference.md`).
//!
//! Values marked *CEL* are expressions (see `docs/expressions.md`): string literals are quoted CEL
//! (`"'human'"`). Values marked *template* may contain `${ENV_VAR}` references, resolved from the
//! environment at run time and never stored.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A CEL expression (string). Quote string literals inside it: `"'human'"`.
pub type Cel = String;

/// A Muster connector: where an application's identities live and how to read them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    /// Schema version. Must be `1`.
    pub version: u32,
    /// The application this connector reads.
    pub app: App,
    /// Named values usable as `{vars.NAME}` in paths and `vars.NAME` in expressions. Values are templates
    /// and may reference `${ENV_VAR}`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub vars: IndexMap<String, String>,
    /// Where the data comes from. Exactly one source kind.
    pub source: Source,
    /// The kinds of objects to read, keyed by a short id (`user`, `group`, ...). Ids are referenced by
    /// `grantable_to`, grant principals and secret owners.
    pub resource_types: IndexMap<String, ResourceTypeSpec>,
    /// Offline tests: a fixture response in, expected records out. Run with `muster test --offline`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCase>,
    /// The drift guard: a sync that would remove more than a share of the resources or grants of the
    /// current snapshot is stored but held, not made current, until a person accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_guard: Option<DriftGuardSpec>,
}

/// Drift guard thresholds. A resource type that would become empty is always held.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftGuardSpec {
    /// Set to false to turn the guard off for this connector. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Largest share of any resource type's resources a sync may remove, in percent. Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drop_percent: Option<f64>,
    /// Largest share of the grants a sync may remove, in percent. Default: `max_drop_percent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_grant_drop_percent: Option<f64>,
    /// Per resource type thresholds, in percent, overriding `max_drop_percent`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub per_type: IndexMap<String, f64>,
}

/// The application a connector reads.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Human-readable application name, e.g. `Acme Directory`. Also the connector's name in the store.
    pub name: String,
    /// Who answers for this connector: a team or person's email.
    pub owner: String,
    /// What the application is and what this connector covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The source of the data. Exactly one kind must be given.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A REST/JSON API over HTTP(S).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSource>,
}

/// A REST/JSON API.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSource {
    /// Base URL every request path is joined to (template), e.g. `${ACME_URL}` or `https://api.acme.com/v1`.
    pub base_url: String,
    /// Headers sent with every request (values are templates).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// Query parameters sent with every request (values are templates).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: IndexMap<String, String>,
    /// Per-request timeout in seconds. Default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// TLS settings: a private CA, or a client certificate for mutual TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// How requests authenticate. Default `type: none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// Retries for throttling and transient failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// Client-side request rate and concurrency limits. Stay under the vendor's documented limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Safety limit on pages read for any one listing. Default 100000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pages: Option<u64>,
}

/// TLS settings. Paths are templates, relative to the working directory.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// PEM file with CA certificates to trust in addition to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// PEM file with the client certificate (mutual TLS). Requires `client_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_file: Option<String>,
    /// PEM file with the client's private key (mutual TLS). Requires `client_cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_file: Option<String>,
}

/// How requests authenticate. Secret values must be `${ENV_VAR}` references, never written inline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// No credentials.
    None {},
    /// HTTP Basic authentication.
    Basic {
        /// User name (template).
        username: String,
        /// Password (secret: `${ENV_VAR}`).
        password: String,
    },
    /// A static bearer token in `Authorization: Bearer ...`.
    Bearer {
        /// The token (secret: `${ENV_VAR}`).
        token: String,
    },
    /// An API key in a header or a query parameter. Give exactly one of `header` and `query`.
    ApiKey {
        /// The key (secret: `${ENV_VAR}`).
        key: String,
        /// Header name to send the key in, e.g. `X-API-Key` or `Authorization`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// Query parameter name to send the key in, e.g. `api_key`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
        /// Text put before the key, e.g. `"SSWS "` or `"Token "`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// OAuth 2.0 client credentials grant (RFC 6749 §4.4). Tokens are cached and refreshed before expiry.
    Oauth2ClientCredentials {
        /// Token endpoint URL (template): absolute, or a path on the base URL.
        token_url: String,
        /// Client id (template).
        client_id: String,
        /// Client secret (secret: `${ENV_VAR}`).
        client_secret: String,
        /// Scopes to request.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<String>,
        /// Audience parameter, for providers that need one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        /// Send client credentials as HTTP Basic (`basic`, default) or as form fields (`body`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_auth: Option<ClientAuth>,
    },
    /// OAuth 2.0 resource owner password grant (RFC 6749 §4.3).
    Oauth2Password {
        /// Token endpoint URL (template): absolute, or a path on the base URL.
        token_url: String,
        /// Client id (template).
        client_id: String,
        /// Client secret (secret: `${ENV_VAR}`), if the client has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret: Option<String>,
        /// User name (template).
        username: String,
        /// Password (secret: `${ENV_VAR}`).
        password: String,
        /// Scopes to request.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<String>,
    },
    /// Log in with a request (usually a POST of credentials) and use the token from its response.
    Login {
        /// Path (relative to `base_url`) or absolute URL of the login endpoint.
        path: String,
        /// HTTP method. Default `POST`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<Method>,
        /// JSON body; string values are templates, so credentials come from `${ENV_VAR}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
        /// Dotted path of the token in the response body, e.g. `token` or `data.access_token`.
        token_path: String,
        /// Dotted path of the token lifetime in seconds, if the response has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in_path: Option<String>,
        /// Dotted path of the token's expiry time (RFC 3339 or epoch seconds), if the response has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at_path: Option<String>,
        /// Header the token is sent in. Default `Authorization`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// Text before the token in that header. Default `"Bearer "`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
}

/// Where OAuth client credentials go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic header (RFC 6749 §2.3.1, the default).
    Basic,
    /// `client_id` and `client_secret` form fields.
    Body,
}

/// Retries with exponential backoff and jitter. `Retry-After` is honoured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in all, including the first. Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// First backoff in milliseconds; doubles on each retry. Default 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<u64>,
    /// Longest backoff in milliseconds. Default 30000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff_ms: Option<u64>,
    /// HTTP statuses that are retried. Default `[429, 502, 503, 504]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<u16>>,
}

/// Client-side limits.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Most requests per second (token bucket). Never exceeded in any one-second window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
    /// Requests that may be sent at once after a quiet spell. Default: `per_second`, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Most requests in flight at once (e.g. members of several groups). Default 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
}

/// One kind of object the application holds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceTypeSpec {
    /// Human-readable name of the type, e.g. `User`. Default: the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// What the objects are: `user`, `group`, `role`, `app`, `secret`. Decides which trait fields `map` takes.
    pub traits: Vec<TraitName>,
    /// How to list every object of this type.
    pub list: ListSpec,
    /// What can be granted on each object of this type (e.g. group membership).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<EntitlementSpec>,
}

/// A resource trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraitName {
    /// Accounts: people, service accounts, bots.
    User,
    /// Collections of principals.
    Group,
    /// Sets of permissions assigned to principals.
    Role,
    /// Applications or integrations.
    App,
    /// Credentials: API keys, tokens, passwords, keys, certificates (metadata only).
    Secret,
}

/// How to list objects: a request, where the rows are, how to page, and how to map each row.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// The request for the first page.
    pub request: RequestSpec,
    /// Dotted path of the array of rows in the response body, e.g. `items` or `data.users`. Omit when the
    /// body itself is the array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    /// How to get the next page. Default `type: none` (one request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// CEL over `item`: rows for which it is true are skipped (and counted as skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_if: Option<Cel>,
    /// How each row becomes a resource. Every value is CEL over `item` (and `vars`).
    pub map: MapSpec,
}

/// An HTTP request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// HTTP method. Default `GET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Path relative to `base_url` (or an absolute URL on the same host). May hold `{vars.NAME}`
    /// anywhere; in grant listings `{resource.id}`, `{resource.parent_id}`, `{resource.display_name}` and
    /// `{entitlement.slug}`; in provisioning requests also `{principal.id}` and `{principal.type}`. Values
    /// are percent-encoded as one path segment (a `/` inside a value becomes `%2F`).
    pub path: String,
    /// Query parameters (values are templates and may hold `{...}` like `path`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: IndexMap<String, String>,
    /// Extra headers (values are templates).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// JSON body (string values are templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Authentication for this request only, when it differs from the source's (e.g. an admin API
    /// with its own token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
}

/// HTTP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// How to reach the next page.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pagination {
    /// One request returns everything.
    None {},
    /// `?offset=N&limit=M`. Stops on a short or empty page, or when `offset` reaches `total`.
    Offset {
        /// Offset parameter name. Default `offset`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset_param: Option<String>,
        /// Page size parameter name. Default `limit`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit_param: Option<String>,
        /// Page size to ask for. Default 100.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u64>,
        /// First offset. Default 0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<u64>,
        /// Dotted path of the total row count in the body, if the API reports one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<String>,
    },
    /// `?page=N&per_page=M`. Stops on a short or empty page, at `total_pages`, or when rows reach `total`.
    Page {
        /// Page number parameter name. Default `page`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page_param: Option<String>,
        /// Page size parameter name, e.g. `per_page`. Omit if the API has none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size_param: Option<String>,
        /// Page size to ask for. Required with `size_param`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
        /// Number of the first page. Default 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<u64>,
        /// Dotted path of the total row count in the body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<String>,
        /// Dotted path of the total page count in the body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total_pages: Option<String>,
    },
    /// An opaque cursor from the previous page. Give exactly one of `cursor_path` and `cursor_header`.
    Cursor {
        /// Query parameter the cursor is sent in. Default `cursor`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        param: Option<String>,
        /// Dotted path of the next cursor in the body, e.g. `next_cursor` or `meta.next`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cursor_path: Option<String>,
        /// Response header holding the next cursor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cursor_header: Option<String>,
        /// Page size parameter name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size_param: Option<String>,
        /// Page size to ask for. Required with `size_param`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
    },
    /// The body holds the next page's URL (absolute or relative).
    NextLink {
        /// Dotted path of the next URL in the body, e.g. `next` or `links.next`.
        path: String,
    },
    /// RFC 8288 `Link` header with `rel="next"`.
    LinkHeader {
        /// Page size parameter name for the first request, e.g. `per_page`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size_param: Option<String>,
        /// Page size to ask for. Required with `size_param`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
    },
    /// SCIM 2.0 (RFC 7644 §3.4.2.4): `startIndex`/`count`, stops at `totalResults`.
    Scim {
        /// Page size (`count`). Default 100.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
    },
}

/// How a row becomes a resource. Every value is a CEL expression over `item` and `vars`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapSpec {
    /// The object's stable id in the source (never a row number). Required.
    pub id: Cel,
    /// Name shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Cel>,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Cel>,
    /// Must evaluate to `'enabled'`, `'disabled'` or `'deleted'`; e.g.
    /// `"item.active ? 'enabled' : 'disabled'"`. Default: enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Cel>,
    /// The object's parent (e.g. the org a team belongs to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<RefMap>,
    /// Fields of the `user` trait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserMap>,
    /// Fields of the `secret` trait (metadata only: never map a secret's value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretMap>,
    /// Further attributes to keep, name → CEL.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub profile: IndexMap<String, Cel>,
}

/// A reference to another resource.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefMap {
    /// The referenced resource type id (a key of `resource_types`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// CEL: the referenced resource's id.
    pub id: Cel,
}

/// The principal of a grant.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalMap {
    /// The principal's resource type id (one of `grantable_to`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// CEL: the principal's id.
    pub id: Cel,
    /// CEL choosing the principal's type per row when a listing mixes kinds (e.g.
    /// `"item.principalType == 'group' ? 'group' : 'user'"`). Must give one of `grantable_to`; null falls
    /// back to `type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_from: Option<Cel>,
}

/// Fields of the `user` trait.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserMap {
    /// CEL: the primary email (a string or null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Cel>,
    /// CEL: all emails (a list of strings). Use instead of, or with, `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emails: Option<Cel>,
    /// CEL: the login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<Cel>,
    /// CEL: `'human'`, `'service'` or `'system'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<Cel>,
    /// CEL: last login time (RFC 3339 string or epoch seconds/millis; normalised to RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<Cel>,
    /// CEL: whether multi-factor authentication is on (boolean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<Cel>,
}

/// Fields of the `secret` trait. Metadata only.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretMap {
    /// CEL: `'api_key'`, `'token'`, `'password'`, `'key'` or `'certificate'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Cel>,
    /// The principal that owns the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<RefMap>,
    /// CEL: creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Cel>,
    /// CEL: expiry time (null = never expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Cel>,
    /// CEL: last use time (null = never used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Cel>,
}

/// Something that can be granted on each resource of a type.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntitlementSpec {
    /// Slug, unique within the resource type, e.g. `member` or `admin`.
    pub id: String,
    /// Name shown to people. Default: the slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `assignment` (default), `permission` or `ownership`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<PurposeName>,
    /// Resource type ids that can hold it (e.g. `[user]`).
    pub grantable_to: Vec<String>,
    /// How to list who holds it. Omit for entitlements that are declared but not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<GrantsSpec>,
    /// How to grant and revoke it (executed by `muster provision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
}

/// Entitlement purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PurposeName {
    /// Membership or assignment (the default).
    Assignment,
    /// A permission.
    Permission,
    /// Ownership of the resource.
    Ownership,
}

/// How to list the holders of an entitlement: once per resource (when `request.path` uses
/// `{resource.id}`), or from one global listing (then `map.resource` names each row's resource).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantsSpec {
    /// The request (may use `{resource.id}`).
    pub request: RequestSpec,
    /// Dotted path of the rows in the body; omit when the body is the array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    /// How to get the next page. Default `type: none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// CEL over `item` (and `resource`): rows that are not real grants, e.g. `"item.state == 'pending'"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_if: Option<Cel>,
    /// How a row becomes a grant.
    pub map: GrantMap,
}

/// How a row becomes a grant.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantMap {
    /// Who holds the entitlement.
    pub principal: PrincipalMap,
    /// CEL: the id of the resource the entitlement belongs to. Required for a global listing (a path
    /// without `{resource.id}`); not allowed otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Cel>,
}

/// Requests that grant and revoke an entitlement. Paths may use `{resource.id}` and `{principal.id}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// How to grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<ProvisionAction>,
    /// How to revoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<ProvisionAction>,
}

/// One provisioning request and how to read its outcome.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionAction {
    /// The request.
    pub request: RequestSpec,
    /// CEL over `response` (`status`, `body`, `headers`): true when it worked. Default: a 2xx status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<Cel>,
    /// CEL over `response`: true when the change was already in place (e.g. `"response.status == 409"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_done: Option<Cel>,
}

/// An offline test: a fixture response for one list or grants request, and the records it must produce.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the test shows, e.g. `disabled user is kept, as disabled`.
    pub name: String,
    /// The resource type whose `list` (or entitlement's `grants`) is tested.
    pub resource_type: String,
    /// Test this entitlement's `grants` mapping instead of the type's `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement: Option<String>,
    /// For a grants test: the resource the listing is for, e.g. `{ id: g1 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<serde_json::Value>,
    /// The fixture response body.
    pub response: serde_json::Value,
    /// The fixture status. Default 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The fixture response headers.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// Expected records, in order; each is matched as a subset of the produced record.
    #[serde(default)]
    pub expect: Vec<serde_json::Value>,
    /// Expected number of records (skipped rows excluded). Default: the length of `expect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_count: Option<usize>,
}
