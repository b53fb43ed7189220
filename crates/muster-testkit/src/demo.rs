//! The Acme demo API: a realistic, fully deterministic SaaS identity API.
//! See the crate documentation for the wire format.

use std::collections::HashSet;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::server::{self, TestServer};
use crate::util::{
    Query, basic_credentials, bearer_token, clamp_size, decode_cursor, encode_cursor, error, json, percent_encode,
    unauthorized,
};

/// Basic-auth user name of the demo API (`/api/v1/*`).
pub const DEMO_USER: &str = "admin";
/// Basic-auth password of the demo API (`/api/v1/*`).
pub const DEMO_PASSWORD: &str = "acme-demo-password";
/// Bearer token of the demo admin API (`/admin/*`).
pub const DEMO_ADMIN_TOKEN: &str = "acme-admin-token-3f9a";

/// Fixed "now" of the demo data set (2026-11-01T00:00:00Z). Token expiry
/// flags in [`DemoTruth`] are relative to this instant, not the wall clock.
pub const DEMO_REFERENCE_NOW: &str = "2026-11-01T00:00:00Z";

const REF_NOW: i64 = 1_793_491_200; // 2026-11-01T00:00:00Z
const DAY: i64 = 86_400;
const Y2023_03_01: i64 = 1_677_628_800;
const Y2024_01_01: i64 = 1_704_067_200;
const Y2026_06_01: i64 = 1_780_272_000;

const USERS_DEFAULT_LIMIT: u64 = 50;
const GROUPS_DEFAULT_PER_PAGE: u64 = 20;
const MEMBERS_DEFAULT_LIMIT: u64 = 50;
const TOKENS_DEFAULT_LIMIT: u64 = 20;
const ROLES_DEFAULT_PER_PAGE: u64 = 5;
const MAX_PAGE: u64 = 100;

fn ts(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct User {
    id: String,
    user_name: String,
    display_name: String,
    email: Option<String>,
    active: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    last_login_at: Option<String>,
    mfa_enabled: bool,
    created_at: String,
}

#[derive(Debug, Clone, Serialize)]
struct Group {
    id: String,
    name: &'static str,
    description: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    user_id: String,
    role: &'static str,
    state: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Token {
    id: String,
    name: String,
    owner_id: Option<String>,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    scopes: Vec<&'static str>,
    prefix: String,
    #[serde(skip)]
    expires_ts: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
struct Role {
    id: String,
    name: &'static str,
    description: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Assignment {
    principal_id: String,
    principal_type: &'static str,
}

struct DemoData {
    users: Vec<User>,
    groups: Vec<Group>,
    members: Vec<Vec<Member>>,
    tokens: Vec<Token>,
    roles: Vec<Role>,
    assignments: Vec<Vec<Assignment>>,
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Priya",
    "Wei",
    "Aisha",
    "Mateo",
    "Sofia",
    "Lukas",
    "Yuki",
    "Omar",
    "Chloe",
    "Arjun",
    "Fatima",
    "Noah",
    "Emma",
    "Liam",
    "Olivia",
    "Hiroshi",
    "Ines",
    "Kwame",
    "Elena",
    "Diego",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Patel",
    "Kim",
    "Chen",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Tanaka",
    "Doe",
];

const SERVICE_ACCOUNTS: &[(&str, &str)] = &[
    ("svc-backup", "Backup Service"),
    ("svc-ci", "CI Pipeline"),
    ("svc-monitoring", "Monitoring Agent"),
    ("svc-deploy", "Deployment Bot"),
    ("svc-billing", "Billing Sync"),
    ("svc-hr-sync", "HRIS Sync"),
    ("svc-reporting", "Reporting Exporter"),
    ("svc-terraform", "Terraform Automation"),
    ("svc-jenkins", "Jenkins Legacy"),
    ("svc-github", "GitHub Integration"),
    ("svc-datadog", "Datadog Integration"),
    ("svc-scim", "SCIM Provisioner"),
];

const GROUPS: [(&str, &str); 25] = [
    ("All Employees", "Every human employee; managed automatically by HR onboarding."),
    ("Engineering", "Software engineers across all product teams."),
    ("Platform", "Platform and infrastructure engineering."),
    ("Security", "Security engineering and GRC."),
    ("Sales", "Account executives and sales development."),
    ("Marketing", "Brand, growth and product marketing."),
    ("Finance", "Accounting, FP&A and procurement."),
    ("People Ops", "Recruiting, HR business partners and payroll."),
    ("Legal", "Legal and privacy counsel."),
    ("Customer Support", "Tier 1 and tier 2 support agents."),
    ("Product", "Product managers."),
    ("Design", "Product design and UX research."),
    ("Data Science", "Analytics and machine learning."),
    ("IT Operations", "Corporate IT, endpoint management and identity."),
    ("Executives", "Leadership team."),
    ("On-Call", "Engineers in the production on-call rotation."),
    ("Incident Response", "Responders paged for security incidents."),
    ("GitHub Admins", "Owners of the Acme GitHub organization."),
    ("AWS Prod Access", "Break-glass access to the production AWS accounts."),
    ("Okta Admins", "Administrators of the Okta tenant."),
    ("Contractors", "External contractors with time-limited access."),
    ("Interns 2026", "Summer 2026 intern cohort."),
    ("Book Club", "Monthly book club (social)."),
    ("Alumni", "Former employees kept for audit purposes; currently empty."),
    ("Service Accounts", "Non-human accounts used by integrations."),
];

const ROLES: [(&str, &str); 12] = [
    ("Org Admin", "Full administrative access to the Acme organization."),
    ("Billing Admin", "Manage subscriptions, invoices and payment methods."),
    ("Security Auditor", "Read-only access to audit logs and security settings."),
    ("User Manager", "Create, update and deactivate users."),
    ("Group Manager", "Create groups and manage group membership."),
    ("Developer", "Create and manage API tokens and integrations."),
    ("Read Only", "Read-only access to all resources."),
    ("Support Agent", "Impersonate users for troubleshooting (audited)."),
    ("Compliance Officer", "Export compliance reports and manage retention."),
    ("Integration Admin", "Configure SSO, SCIM and third-party integrations."),
    ("Report Viewer", "View usage and analytics reports."),
    ("Guest", "Minimal access for external collaborators."),
];

const TOKEN_NAMES: &[&str] = &[
    "nightly-backup",
    "ci-deploy",
    "metrics-scraper",
    "prod-deploy",
    "billing-export",
    "hris-import",
    "weekly-report",
    "terraform-plan",
    "jenkins-legacy",
    "github-actions",
    "datadog-agent",
    "scim-provisioning",
    "local-dev",
    "debug-script",
    "data-pipeline",
    "staging-deploy",
    "audit-export",
    "okta-sync",
    "slack-bot",
    "backup-verify",
    "grafana",
    "airflow",
    "looker",
    "cost-report",
    "migration-2025",
    "zapier",
    "pagerduty",
    "snowflake-etl",
    "sentry-release",
    "jira-sync",
    "onboarding-bot",
    "support-macros",
    "legacy-import",
    "dr-test",
    "tf-apply",
    "uptime-check",
    "personal-token",
    "analytics",
    "vault-sync",
    "k8s-operator",
];

const SCOPES: &[&str] =
    &["users:read", "users:write", "groups:read", "groups:write", "tokens:read", "audit:read", "admin"];

/// Indices (1-based user numbers) of service accounts: every 25th user.
fn is_service(n: usize) -> bool {
    n.is_multiple_of(25)
}
const DISABLED_USER: usize = 137;
const NO_EMAIL_HUMANS: [usize; 3] = [42, 128, 233];

fn uid(n: usize) -> String {
    format!("u{n:04}")
}

fn build() -> DemoData {
    let mut rng = Rng(0xACE5_2026);
    // ---- users
    let mut users = Vec::with_capacity(300);
    let mut names = HashSet::new();
    let mut emails = HashSet::new();
    let mut humans = Vec::new();
    let mut services = Vec::new();
    for n in 1..=300usize {
        let created = Y2023_03_01 + (n as i64) * 3 * DAY + rng.below(DAY as u64) as i64;
        if n == 1 {
            users.push(User {
                id: uid(n),
                user_name: DEMO_USER.to_owned(),
                display_name: "Acme Admin".to_owned(),
                email: Some("admin@acme.example".to_owned()),
                active: true,
                kind: "human",
                last_login_at: Some(ts(REF_NOW - 2 * 3600)),
                mfa_enabled: true,
                created_at: ts(Y2023_03_01),
            });
            humans.push(n);
            continue;
        }
        if is_service(n) {
            let (user_name, display) = SERVICE_ACCOUNTS[n / 25 - 1];
            users.push(User {
                id: uid(n),
                user_name: user_name.to_owned(),
                display_name: display.to_owned(),
                email: None,
                active: true,
                kind: "service",
                last_login_at: None,
                mfa_enabled: false,
                created_at: ts(created),
            });
            services.push(n);
            continue;
        }
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let initial = first.chars().next().unwrap_or('x').to_ascii_lowercase();
        let mut user_name;
        loop {
            user_name = format!("{initial}{}{}", last.to_lowercase(), 10 + rng.below(90));
            if names.insert(user_name.clone()) {
                break;
            }
        }
        let mut email = format!("{}.{}@acme.example", first.to_lowercase(), last.to_lowercase());
        let mut k = 2;
        while !emails.insert(email.clone()) {
            email = format!("{}.{}{k}@acme.example", first.to_lowercase(), last.to_lowercase());
            k += 1;
        }
        let active = n != DISABLED_USER;
        let last_login = if n == DISABLED_USER {
            Some(Y2026_06_01 - 120 * DAY)
        } else if rng.below(14) == 0 {
            None
        } else {
            Some(Y2026_06_01 + rng.below(150 * DAY as u64) as i64)
        };
        users.push(User {
            id: uid(n),
            user_name,
            display_name: format!("{first} {last}"),
            email: (!NO_EMAIL_HUMANS.contains(&n)).then_some(email),
            active,
            kind: "human",
            last_login_at: last_login.map(ts),
            mfa_enabled: rng.below(10) != 0,
            created_at: ts(created),
        });
        humans.push(n);
    }

    // ---- groups and memberships
    let groups: Vec<Group> = GROUPS
        .iter()
        .enumerate()
        .map(|(i, (name, description))| Group { id: format!("g{:02}", i + 1), name, description })
        .collect();
    let mut member_sets: Vec<Vec<usize>> = vec![Vec::new(); 25];
    // g01 All Employees: every human (including the disabled one).
    member_sets[0] = humans.clone();
    // g02..g14: departments (13), every human except the admin in exactly one.
    for &n in humans.iter().skip(1) {
        let dept = 1 + rng.below(13) as usize;
        member_sets[dept].push(n);
    }
    member_sets[13].push(1); // admin in IT Operations
    // g15..g23: cross-functional groups with random members.
    for (gi, size) in [(14usize, 8usize), (15, 18), (16, 10), (17, 6), (18, 12), (19, 5), (20, 15), (21, 9), (22, 25)] {
        let mut set = Vec::new();
        while set.len() < size {
            let n = humans[1 + rng.below(humans.len() as u64 - 1) as usize];
            if !set.contains(&n) {
                set.push(n);
            }
        }
        member_sets[gi] = set;
    }
    member_sets[19].push(1); // admin in Okta Admins
    // g24 Alumni: empty. g25 Service Accounts: the admin (owner) + all service accounts.
    member_sets[24] = std::iter::once(1).chain(services.iter().copied()).collect();

    let mut members = Vec::with_capacity(25);
    for (gi, set) in member_sets.iter_mut().enumerate() {
        if gi != 0 && gi != 24 {
            set.sort_unstable();
        }
        let owner = if gi == 0 || gi == 24 { Some(1) } else { set.first().copied() };
        let list = set
            .iter()
            .map(|&n| {
                let is_owner = Some(n) == owner;
                // Invitations: never owners, never in All Employees / Service Accounts.
                let pending = !is_owner && gi != 0 && gi != 24 && (gi == 21 && n % 2 == 0 || rng.below(15) == 0);
                Member {
                    user_id: uid(n),
                    role: if is_owner { "owner" } else { "member" },
                    state: if pending { "pending" } else { "active" },
                }
            })
            .collect();
        members.push(list);
    }

    // ---- tokens
    let mut tokens = Vec::with_capacity(40);
    for (t, name) in TOKEN_NAMES.iter().enumerate() {
        let mut id = String::from("tok_");
        for _ in 0..12 {
            let c = b"0123456789abcdefghijklmnopqrstuvwxyz"[rng.below(36) as usize];
            id.push(c as char);
        }
        let owner = if [5usize, 17, 31].contains(&t) {
            None
        } else if t == 36 {
            Some(uid(DISABLED_USER)) // a personal token of the disabled user
        } else if t % 4 == 3 {
            Some(uid(humans[1 + rng.below(humans.len() as u64 - 1) as usize]))
        } else {
            Some(uid(services[t % services.len()]))
        };
        let created = Y2024_01_01 + rng.below(900 * DAY as u64) as i64;
        let expires = if t % 5 == 0 {
            None
        } else if t % 7 == 1 {
            Some((created + (30 + rng.below(150) as i64) * DAY).min(REF_NOW - 3 * DAY))
        } else {
            Some(created + 365 * DAY)
        };
        let used_until = expires.map_or(REF_NOW, |e| e.min(REF_NOW));
        let last_used = if t % 6 == 2 {
            None
        } else {
            let span = (used_until - created).max(DAY);
            Some(created + rng.below(span as u64) as i64)
        };
        let mut scopes: Vec<&'static str> = SCOPES.iter().copied().filter(|_| rng.below(3) == 0).collect();
        if scopes.is_empty() {
            scopes.push("users:read");
        }
        let prefix = format!("acme_pat_{}", &id[4..8]);
        tokens.push(Token {
            id,
            name: (*name).to_owned(),
            owner_id: owner,
            created_at: ts(created),
            expires_at: expires.map(ts),
            last_used_at: last_used.map(ts),
            scopes,
            prefix,
            expires_ts: expires,
        });
    }
    tokens.sort_by(|a, b| a.id.cmp(&b.id));

    // ---- roles and assignments
    let roles: Vec<Role> = ROLES
        .iter()
        .enumerate()
        .map(|(i, (name, description))| Role { id: format!("r{}", i + 1), name, description })
        .collect();
    let user = |n: usize| Assignment { principal_id: uid(n), principal_type: "user" };
    let group = |g: usize| Assignment { principal_id: format!("g{g:02}"), principal_type: "group" };
    let assignments = vec![
        vec![user(1), user(2), user(3)],
        vec![user(47), group(7)],
        vec![group(4), user(88)],
        vec![group(8), user(2)],
        vec![group(14), user(61), user(DISABLED_USER)],
        vec![group(2), group(3), user(175)],
        vec![group(1)],
        vec![group(10)],
        vec![user(212)],
        vec![group(20), user(150)],
        vec![group(15), group(11), user(299)],
        vec![],
    ];

    DemoData { users, groups, members, tokens, roles, assignments }
}

fn data() -> &'static DemoData {
    static DATA: OnceLock<DemoData> = OnceLock::new();
    DATA.get_or_init(build)
}

// ---------------------------------------------------------------------------
// Truth
// ---------------------------------------------------------------------------

/// Expected facts about one demo API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoTokenTruth {
    /// Token id, e.g. `"tok_3k9..."`.
    pub id: String,
    /// Owner user id, `None` for the three ownerless tokens.
    pub owner_id: Option<String>,
    /// `expiresAt` is before [`DEMO_REFERENCE_NOW`].
    pub expired: bool,
    /// `expiresAt` is null.
    pub never_expires: bool,
    /// `lastUsedAt` is null.
    pub never_used: bool,
}

/// The ground truth of the demo data set, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoTruth {
    /// Number of users (300).
    pub user_count: usize,
    /// All user ids in API order (`u0001`..`u0300`).
    pub user_ids: Vec<String>,
    /// Users with `active: false` (exactly one human).
    pub disabled_user_ids: Vec<String>,
    /// Users with `type: "service"`.
    pub service_account_ids: Vec<String>,
    /// Users whose `email` is null (service accounts plus a few humans).
    pub users_without_email: Vec<String>,
    /// All group ids in API order (`g01`..`g25`).
    pub group_ids: Vec<String>,
    /// `(group id, user id)` memberships with `state: "active"`.
    pub active_memberships: Vec<(String, String)>,
    /// `(group id, user id)` memberships with `state: "pending"` (invitations, not grants).
    pub pending_memberships: Vec<(String, String)>,
    /// `(group id, user id)` memberships with `role: "owner"` (all active).
    pub group_owners: Vec<(String, String)>,
    /// All role ids (`r1`..`r12`).
    pub role_ids: Vec<String>,
    /// `(role id, principal id, principal type "user"|"group")`.
    pub role_assignments: Vec<(String, String, String)>,
    /// All tokens in API order (sorted by id).
    pub tokens: Vec<DemoTokenTruth>,
}

/// The ground truth of the demo data set.
pub fn demo_truth() -> DemoTruth {
    let d = data();
    let mut active = Vec::new();
    let mut pending = Vec::new();
    let mut owners = Vec::new();
    for (g, list) in d.groups.iter().zip(&d.members) {
        for m in list {
            let pair = (g.id.clone(), m.user_id.clone());
            if m.role == "owner" {
                owners.push(pair.clone());
            }
            if m.state == "pending" {
                pending.push(pair);
            } else {
                active.push(pair);
            }
        }
    }
    DemoTruth {
        user_count: d.users.len(),
        user_ids: d.users.iter().map(|u| u.id.clone()).collect(),
        disabled_user_ids: d.users.iter().filter(|u| !u.active).map(|u| u.id.clone()).collect(),
        service_account_ids: d.users.iter().filter(|u| u.kind == "service").map(|u| u.id.clone()).collect(),
        users_without_email: d.users.iter().filter(|u| u.email.is_none()).map(|u| u.id.clone()).collect(),
        group_ids: d.groups.iter().map(|g| g.id.clone()).collect(),
        active_memberships: active,
        pending_memberships: pending,
        group_owners: owners,
        role_ids: d.roles.iter().map(|r| r.id.clone()).collect(),
        role_assignments: d
            .roles
            .iter()
            .zip(&d.assignments)
            .flat_map(|(r, list)| {
                list.iter().map(move |a| (r.id.clone(), a.principal_id.clone(), a.principal_type.to_owned()))
            })
            .collect(),
        tokens: d
            .tokens
            .iter()
            .map(|t| DemoTokenTruth {
                id: t.id.clone(),
                owner_id: t.owner_id.clone(),
                expired: t.expires_ts.is_some_and(|e| e < REF_NOW),
                never_expires: t.expires_ts.is_none(),
                never_used: t.last_used_at.is_none(),
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

struct DemoState {
    base_url: String,
}

type St = State<Arc<DemoState>>;

/// Starts the Acme demo API on `127.0.0.1:port` (`None` = random free port).
pub fn serve_demo(port: Option<u16>) -> io::Result<TestServer> {
    server::spawn(port, Duration::ZERO, |base_url| {
        let state = Arc::new(DemoState { base_url });
        Router::new()
            .route("/api/v1/users", get(users))
            .route("/api/v1/groups", get(groups))
            .route("/api/v1/groups/{id}/members", get(members))
            .route("/api/v1/tokens", get(tokens))
            .route("/api/v1/me", get(me))
            .route("/admin/roles", get(roles))
            .route("/admin/roles/{id}/assignments", get(assignments))
            .route("/openapi.json", get(openapi))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "not found") })
            .with_state(state)
    })
}

fn require_basic(headers: &HeaderMap) -> Result<(), Response> {
    match basic_credentials(headers) {
        Some((u, p)) if u == DEMO_USER && p == DEMO_PASSWORD => Ok(()),
        _ => Err(unauthorized(r#"Basic realm="Acme API""#, "unauthorized")),
    }
}

fn require_bearer(headers: &HeaderMap) -> Result<(), Response> {
    match bearer_token(headers) {
        Some(t) if t == DEMO_ADMIN_TOKEN => Ok(()),
        _ => Err(unauthorized(r#"Bearer realm="Acme Admin""#, "unauthorized")),
    }
}

fn slice<T>(items: &[T], start: u64, len: u64) -> &[T] {
    let total = items.len();
    let s = usize::try_from(start).unwrap_or(usize::MAX).min(total);
    let e = usize::try_from(start.saturating_add(len)).unwrap_or(usize::MAX).min(total);
    &items[s..e]
}

async fn users(headers: HeaderMap, uri: Uri) -> Response {
    let go = || -> Result<Response, Response> {
        require_basic(&headers)?;
        let q = Query::from_uri(&uri);
        let offset = q.num("offset")?.unwrap_or(0);
        let limit = clamp_size(q.num("limit")?, USERS_DEFAULT_LIMIT, MAX_PAGE);
        let d = data();
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "items": slice(&d.users, offset, limit),
                "total": d.users.len(),
                "offset": offset,
                "limit": limit,
            }),
        ))
    };
    go().unwrap_or_else(|e| e)
}

async fn groups(headers: HeaderMap, uri: Uri) -> Response {
    let go = || -> Result<Response, Response> {
        require_basic(&headers)?;
        let q = Query::from_uri(&uri);
        let page = q.num("page")?.unwrap_or(1).max(1);
        let per_page = clamp_size(q.num("per_page")?, GROUPS_DEFAULT_PER_PAGE, MAX_PAGE);
        let d = data();
        let total = d.groups.len() as u64;
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "data": slice(&d.groups, (page - 1).saturating_mul(per_page), per_page),
                "page": page,
                "per_page": per_page,
                "total_pages": total.div_ceil(per_page),
                "total": total,
            }),
        ))
    };
    go().unwrap_or_else(|e| e)
}

async fn members(Path(id): Path<String>, headers: HeaderMap, uri: Uri) -> Response {
    let go = || -> Result<Response, Response> {
        require_basic(&headers)?;
        let d = data();
        let Some(gi) = d.groups.iter().position(|g| g.id == id) else {
            return Err(error(StatusCode::NOT_FOUND, "group not found"));
        };
        let q = Query::from_uri(&uri);
        let offset = match q.get("cursor") {
            None | Some("") => 0,
            Some(c) => decode_cursor(&format!("mbr-{id}"), c)
                .ok_or_else(|| error(StatusCode::BAD_REQUEST, "invalid cursor"))?,
        };
        let limit = clamp_size(q.num("limit")?, MEMBERS_DEFAULT_LIMIT, MAX_PAGE);
        let list = &d.members[gi];
        let page = slice(list, offset, limit);
        let end = offset.saturating_add(page.len() as u64);
        let next = (end < list.len() as u64).then(|| encode_cursor(&format!("mbr-{id}"), end));
        Ok(json(StatusCode::OK, &serde_json::json!({ "members": page, "next_cursor": next })))
    };
    go().unwrap_or_else(|e| e)
}

async fn tokens(headers: HeaderMap, uri: Uri) -> Response {
    let go = || -> Result<Response, Response> {
        require_basic(&headers)?;
        let q = Query::from_uri(&uri);
        let limit = clamp_size(q.num("limit")?, TOKENS_DEFAULT_LIMIT, MAX_PAGE);
        let d = data();
        let start = match q.get("after") {
            None | Some("") => 0,
            Some(after) => d.tokens.partition_point(|t| t.id.as_str() <= after),
        };
        let page = slice(&d.tokens, start as u64, limit);
        let more = start + page.len() < d.tokens.len();
        let next = match page.last() {
            Some(last) if more => Some(format!("/api/v1/tokens?after={}&limit={limit}", percent_encode(&last.id))),
            _ => None,
        };
        Ok(json(StatusCode::OK, &serde_json::json!({ "tokens": page, "links": { "next": next } })))
    };
    go().unwrap_or_else(|e| e)
}

async fn me(headers: HeaderMap) -> Response {
    if let Err(e) = require_basic(&headers) {
        return e;
    }
    match data().users.first() {
        Some(u) => json(StatusCode::OK, u),
        None => error(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn roles(State(st): St, headers: HeaderMap, uri: Uri) -> Response {
    let go = || -> Result<Response, Response> {
        require_bearer(&headers)?;
        let q = Query::from_uri(&uri);
        let page = q.num("page")?.unwrap_or(1).max(1);
        let per_page = clamp_size(q.num("per_page")?, ROLES_DEFAULT_PER_PAGE, MAX_PAGE);
        let d = data();
        let start = (page - 1).saturating_mul(per_page);
        let items = slice(&d.roles, start, per_page);
        let mut resp = json(StatusCode::OK, &items);
        if start.saturating_add(per_page) < d.roles.len() as u64 {
            let link = format!("<{}/admin/roles?page={}&per_page={per_page}>; rel=\"next\"", st.base_url, page + 1);
            if let Ok(v) = HeaderValue::from_str(&link) {
                resp.headers_mut().insert(header::LINK, v);
            }
        }
        Ok(resp)
    };
    go().unwrap_or_else(|e| e)
}

async fn assignments(Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(e) = require_bearer(&headers) {
        return e;
    }
    let d = data();
    match d.roles.iter().position(|r| r.id == id) {
        Some(i) => json(StatusCode::OK, &serde_json::json!({ "assignments": d.assignments[i] })),
        None => error(StatusCode::NOT_FOUND, "role not found"),
    }
}

async fn openapi(State(st): St) -> Response {
    let mut doc = crate::openapi::demo_openapi();
    if let Some(server) = doc.pointer_mut("/servers/0/url") {
        *server = serde_json::Value::String(st.base_url.clone());
    }
    json(StatusCode::OK, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_invariants() {
        let d = data();
        assert_eq!(d.users.len(), 300);
        assert_eq!(d.users.iter().filter(|u| !u.active).count(), 1);
        assert_eq!(d.users.iter().filter(|u| u.kind == "service").count(), 12);
        let no_email = d.users.iter().filter(|u| u.email.is_none()).count();
        assert_eq!(no_email, 15);
        let names: HashSet<_> = d.users.iter().map(|u| &u.user_name).collect();
        assert_eq!(names.len(), 300);
        assert_eq!(d.groups.len(), 25);
        assert_eq!(d.roles.len(), 12);
        assert_eq!(d.tokens.len(), 40);
        let t = demo_truth();
        assert!(t.tokens.iter().filter(|t| t.expired).count() >= 3);
        assert!(t.tokens.iter().filter(|t| t.never_expires).count() >= 3);
        assert!(t.tokens.iter().filter(|t| t.never_used).count() >= 3);
        assert!(t.tokens.iter().filter(|t| !t.expired && !t.never_expires).count() >= 3);
        assert_eq!(t.tokens.iter().filter(|t| t.owner_id.is_none()).count(), 3);
        assert!(t.pending_memberships.len() >= 5);
        for g in &d.members {
            let set: HashSet<_> = g.iter().map(|m| &m.user_id).collect();
            assert_eq!(set.len(), g.len());
        }
        // Deterministic across builds.
        let again = build();
        assert_eq!(serde_json::to_string(&again.users).unwrap(), serde_json::to_string(&d.users).unwrap());
    }
}
