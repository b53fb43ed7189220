//! OpenAPI 3.0 description of the Acme demo API.

use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn unauthorized(scheme: &str) -> Value {
    json!({
        "description": "Missing or invalid credentials.",
        "headers": {
            "WWW-Authenticate": {
                "description": format!("Authentication challenge, e.g. `{scheme}`."),
                "schema": { "type": "string" }
            }
        },
        "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/Error" },
            "example": { "error": "unauthorized" }
        } }
    })
}

fn int_param(name: &str, description: &str, default: u64, min: u64, max: Option<u64>) -> Value {
    let mut schema = json!({ "type": "integer", "minimum": min, "default": default });
    if let Some(max) = max {
        schema["maximum"] = json!(max);
    }
    json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "schema": schema
    })
}

fn path_param(name: &str, description: &str, example: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "required": true,
        "description": description,
        "schema": { "type": "string" },
        "example": example
    })
}

fn ok_json(description: &str, schema_ref: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": schema_ref } } }
    })
}

fn schemas() -> Value {
    let ts = |d: &str| json!({ "type": "string", "format": "date-time", "description": d });
    let nullable_ts = |d: &str| json!({ "type": "string", "format": "date-time", "nullable": true, "description": d });
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": { "error": { "type": "string", "description": "Machine-readable error message, e.g. `unauthorized`, `group not found`, `invalid cursor`." } }
        },
        "User": {
            "type": "object",
            "description": "A user account. Human accounts are people; service accounts are non-human integration identities.",
            "required": ["id", "userName", "displayName", "email", "active", "type", "lastLoginAt", "mfaEnabled", "createdAt"],
            "properties": {
                "id": { "type": "string", "description": "Stable user id.", "example": "u0007" },
                "userName": { "type": "string", "description": "Unique login name. Service accounts start with `svc-`.", "example": "jdoe12" },
                "displayName": { "type": "string", "example": "Jane Doe" },
                "email": { "type": "string", "format": "email", "nullable": true, "description": "Primary email address; null for service accounts and for a few humans without a mailbox." },
                "active": { "type": "boolean", "description": "False when the account is disabled (it cannot sign in)." },
                "type": { "type": "string", "enum": ["human", "service"], "description": "Account type." },
                "lastLoginAt": nullable_ts("Last interactive sign-in; null if the user never signed in (always null for service accounts)."),
                "mfaEnabled": { "type": "boolean", "description": "Whether the user has enrolled a second factor (always false for service accounts)." },
                "createdAt": ts("When the account was created.")
            }
        },
        "UserList": {
            "type": "object",
            "description": "One page of users (offset pagination).",
            "required": ["items", "total", "offset", "limit"],
            "properties": {
                "items": { "type": "array", "items": { "$ref": "#/components/schemas/User" } },
                "total": { "type": "integer", "description": "Total number of users across all pages." },
                "offset": { "type": "integer", "description": "Offset of the first item of this page (echo of the request)." },
                "limit": { "type": "integer", "description": "Effective page size after clamping to 1..100." }
            }
        },
        "Group": {
            "type": "object",
            "required": ["id", "name", "description"],
            "properties": {
                "id": { "type": "string", "example": "g01" },
                "name": { "type": "string", "example": "Engineering" },
                "description": { "type": "string" }
            }
        },
        "GroupPage": {
            "type": "object",
            "description": "One page of groups (page-number pagination, 1-based).",
            "required": ["data", "page", "per_page", "total_pages", "total"],
            "properties": {
                "data": { "type": "array", "items": { "$ref": "#/components/schemas/Group" } },
                "page": { "type": "integer", "description": "Current page number (1-based)." },
                "per_page": { "type": "integer", "description": "Effective page size after clamping to 1..100." },
                "total_pages": { "type": "integer", "description": "Number of pages; requesting a page beyond it returns an empty `data` array." },
                "total": { "type": "integer", "description": "Total number of groups." }
            }
        },
        "Membership": {
            "type": "object",
            "required": ["userId", "role", "state"],
            "properties": {
                "userId": { "type": "string", "description": "Id of the member user.", "example": "u0007" },
                "role": { "type": "string", "enum": ["member", "owner"], "description": "Owners can manage the group." },
                "state": { "type": "string", "enum": ["active", "pending"], "description": "`pending` means an invitation that has not been accepted yet; it does not grant membership." }
            }
        },
        "MemberPage": {
            "type": "object",
            "description": "One page of group members (cursor pagination; the cursor is in the body).",
            "required": ["members", "next_cursor"],
            "properties": {
                "members": { "type": "array", "items": { "$ref": "#/components/schemas/Membership" } },
                "next_cursor": { "type": "string", "nullable": true, "description": "Opaque cursor for the next page; pass it as `cursor`. Null on the last page." }
            }
        },
        "Token": {
            "type": "object",
            "description": "A personal access / API token. The secret value is never returned.",
            "required": ["id", "name", "ownerId", "createdAt", "expiresAt", "lastUsedAt", "scopes", "prefix"],
            "properties": {
                "id": { "type": "string", "example": "tok_3k9x0a1b2c3d" },
                "name": { "type": "string", "example": "nightly-backup" },
                "ownerId": { "type": "string", "nullable": true, "description": "Id of the owning user (usually a service account); null for orphaned tokens whose owner was never recorded." },
                "createdAt": ts("When the token was created."),
                "expiresAt": nullable_ts("Expiry time; null means the token never expires."),
                "lastUsedAt": nullable_ts("Last time the token authenticated a request; null if never used."),
                "scopes": { "type": "array", "items": { "type": "string", "enum": ["users:read", "users:write", "groups:read", "groups:write", "tokens:read", "audit:read", "admin"] } },
                "prefix": { "type": "string", "description": "Non-secret identifying prefix of the token value.", "example": "acme_pat_3k9x" }
            }
        },
        "TokenPage": {
            "type": "object",
            "description": "One page of tokens (keyset pagination with a relative next link).",
            "required": ["tokens", "links"],
            "properties": {
                "tokens": { "type": "array", "items": { "$ref": "#/components/schemas/Token" } },
                "links": {
                    "type": "object",
                    "required": ["next"],
                    "properties": {
                        "next": { "type": "string", "nullable": true, "description": "Relative URL of the next page, e.g. `/api/v1/tokens?after=tok_...&limit=20`; null on the last page.", "example": "/api/v1/tokens?after=tok_3k9x0a1b2c3d&limit=20" }
                    }
                }
            }
        },
        "Role": {
            "type": "object",
            "required": ["id", "name", "description"],
            "properties": {
                "id": { "type": "string", "example": "r1" },
                "name": { "type": "string", "example": "Org Admin" },
                "description": { "type": "string" }
            }
        },
        "RoleList": {
            "type": "array",
            "description": "One page of roles (bare array; the next page is announced in the `Link` header).",
            "items": { "$ref": "#/components/schemas/Role" }
        },
        "RoleAssignment": {
            "type": "object",
            "required": ["principalId", "principalType"],
            "properties": {
                "principalId": { "type": "string", "description": "A user id (`u0003`) or group id (`g04`).", "example": "u0003" },
                "principalType": { "type": "string", "enum": ["user", "group"] }
            }
        },
        "RoleAssignmentList": {
            "type": "object",
            "required": ["assignments"],
            "properties": {
                "assignments": { "type": "array", "items": { "$ref": "#/components/schemas/RoleAssignment" } }
            }
        }
    })
}

/// An OpenAPI 3.0.3 document describing exactly the Acme demo API served by
/// [`crate::serve_demo`]. `servers[0].url` is a placeholder
/// (`http://127.0.0.1:8080`); the live `GET /openapi.json` route replaces it
/// with the real base URL.
pub fn demo_openapi() -> Value {
    let basic = json!([{ "basicAuth": [] }]);
    let bearer = json!([{ "bearerAuth": [] }]);
    let paths = json!({
        "/api/v1/users": {
            "get": {
                "operationId": "listUsers",
                "tags": ["Users"],
                "summary": "List users",
                "description": "Lists all user accounts (humans and service accounts), ordered by id. Offset pagination: request `offset=0`, then add the number of returned items until `offset >= total`.",
                "security": basic,
                "parameters": [
                    int_param("offset", "Number of users to skip.", 0, 0, None),
                    int_param("limit", "Page size; values above 100 are clamped to 100.", 50, 1, Some(100))
                ],
                "responses": {
                    "200": ok_json("A page of users.", "#/components/schemas/UserList"),
                    "400": error_response("A query parameter is not a non-negative integer."),
                    "401": unauthorized("Basic realm=\"Acme API\"")
                }
            }
        },
        "/api/v1/groups": {
            "get": {
                "operationId": "listGroups",
                "tags": ["Groups"],
                "summary": "List groups",
                "description": "Lists all groups, ordered by id. Page-number pagination (1-based): iterate `page` from 1 to `total_pages`.",
                "security": basic,
                "parameters": [
                    int_param("page", "Page number, 1-based (0 is treated as 1).", 1, 1, None),
                    int_param("per_page", "Page size; values above 100 are clamped to 100.", 20, 1, Some(100))
                ],
                "responses": {
                    "200": ok_json("A page of groups.", "#/components/schemas/GroupPage"),
                    "400": error_response("A query parameter is not a non-negative integer."),
                    "401": unauthorized("Basic realm=\"Acme API\"")
                }
            }
        },
        "/api/v1/groups/{id}/members": {
            "get": {
                "operationId": "listGroupMembers",
                "tags": ["Groups"],
                "summary": "List members of a group",
                "description": "Lists the memberships of one group, including pending invitations (`state: pending`), which are not effective memberships. Cursor pagination: omit `cursor` for the first page, then pass the previous response's `next_cursor` until it is null.",
                "security": basic,
                "parameters": [
                    path_param("id", "Group id.", "g01"),
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": false,
                        "description": "Opaque cursor from a previous response's `next_cursor`; omit for the first page.",
                        "schema": { "type": "string" }
                    },
                    int_param("limit", "Page size; values above 100 are clamped to 100.", 50, 1, Some(100))
                ],
                "responses": {
                    "200": ok_json("A page of memberships.", "#/components/schemas/MemberPage"),
                    "400": error_response("Invalid cursor or limit."),
                    "401": unauthorized("Basic realm=\"Acme API\""),
                    "404": error_response("Unknown group id (`{\"error\":\"group not found\"}`).")
                }
            }
        },
        "/api/v1/tokens": {
            "get": {
                "operationId": "listTokens",
                "tags": ["Tokens"],
                "summary": "List API tokens",
                "description": "Lists API tokens of the organization (metadata only, never the secret), ordered by id. Keyset pagination: follow `links.next` (a URL relative to the server root) until it is null.",
                "security": basic,
                "parameters": [
                    int_param("limit", "Page size; values above 100 are clamped to 100.", 20, 1, Some(100)),
                    {
                        "name": "after",
                        "in": "query",
                        "required": false,
                        "description": "Return tokens whose id sorts after this token id (the last id of the previous page).",
                        "schema": { "type": "string" }
                    }
                ],
                "responses": {
                    "200": ok_json("A page of tokens.", "#/components/schemas/TokenPage"),
                    "400": error_response("`limit` is not a non-negative integer."),
                    "401": unauthorized("Basic realm=\"Acme API\"")
                }
            }
        },
        "/api/v1/me": {
            "get": {
                "operationId": "getCurrentUser",
                "tags": ["Users"],
                "summary": "Current user",
                "description": "Returns the authenticated user (a whoami endpoint, not a listing).",
                "security": basic,
                "responses": {
                    "200": ok_json("The authenticated user.", "#/components/schemas/User"),
                    "401": unauthorized("Basic realm=\"Acme API\"")
                }
            }
        },
        "/admin/roles": {
            "get": {
                "operationId": "listRoles",
                "tags": ["Admin"],
                "summary": "List roles",
                "description": "Lists the organization's roles as a bare JSON array. Pagination follows RFC 8288: while more pages exist the response carries `Link: <http://HOST/admin/roles?page=N&per_page=M>; rel=\"next\"` (an absolute URL); the header is absent on the last page.",
                "security": bearer,
                "parameters": [
                    int_param("page", "Page number, 1-based (0 is treated as 1).", 1, 1, None),
                    int_param("per_page", "Page size; values above 100 are clamped to 100.", 5, 1, Some(100))
                ],
                "responses": {
                    "200": {
                        "description": "A page of roles.",
                        "headers": {
                            "Link": {
                                "description": "RFC 8288 link to the next page with `rel=\"next\"`; absent on the last page.",
                                "schema": { "type": "string" },
                                "example": "<http://127.0.0.1:8080/admin/roles?page=2&per_page=5>; rel=\"next\""
                            }
                        },
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RoleList" } } }
                    },
                    "400": error_response("A query parameter is not a non-negative integer."),
                    "401": unauthorized("Bearer realm=\"Acme Admin\"")
                }
            }
        },
        "/admin/roles/{id}/assignments": {
            "get": {
                "operationId": "listRoleAssignments",
                "tags": ["Admin"],
                "summary": "List assignments of a role",
                "description": "Lists every principal (user or group) the role is assigned to. Not paginated.",
                "security": bearer,
                "parameters": [ path_param("id", "Role id.", "r1") ],
                "responses": {
                    "200": ok_json("All assignments of the role.", "#/components/schemas/RoleAssignmentList"),
                    "401": unauthorized("Bearer realm=\"Acme Admin\""),
                    "404": error_response("Unknown role id (`{\"error\":\"role not found\"}`).")
                }
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["Meta"],
                "summary": "This OpenAPI document",
                "description": "Returns this document with `servers[0].url` set to the server's base URL. No authentication.",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.0 document.",
                        "content": { "application/json": { "schema": { "type": "object" } } }
                    }
                }
            }
        }
    });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Acme Identity API",
            "version": "1.4.0",
            "description": "Identity API of Acme Corp: users, groups and memberships, API tokens (`/api/v1`, HTTP Basic auth) and role-based access control (`/admin`, bearer token). All timestamps are RFC 3339 in UTC. Errors are JSON objects `{\"error\": \"...\"}`."
        },
        "servers": [
            { "url": "http://127.0.0.1:8080", "description": "Local Acme demo server (the port varies; GET /openapi.json reports the real one)." }
        ],
        "tags": [
            { "name": "Users" }, { "name": "Groups" }, { "name": "Tokens" }, { "name": "Admin" }, { "name": "Meta" }
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": { "type": "http", "scheme": "basic", "description": "HTTP Basic auth with the organization's API user; required on `/api/v1/*`." },
                "bearerAuth": { "type": "http", "scheme": "bearer", "description": "Admin API token; required on `/admin/*`." }
            },
            "schemas": schemas()
        }
    })
}
