//! Identity records, shaped after baton-sdk's model so that an export is a mapping, not a translation.
//!
//! No I/O lives here: these are the values that flow from a source, through the engine, into a store.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A trait a resource type can carry. It decides which typed fields a resource of that type has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trait {
    User,
    Group,
    Role,
    App,
    Secret,
}

impl Trait {
    pub const ALL: [Trait; 5] = [Trait::User, Trait::Group, Trait::Role, Trait::App, Trait::Secret];

    pub fn as_str(self) -> &'static str {
        match self {
            Trait::User => "user",
            Trait::Group => "group",
            Trait::Role => "role",
            Trait::App => "app",
            Trait::Secret => "secret",
        }
    }
}

impl fmt::Display for Trait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle status of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Enabled,
    Disabled,
    Deleted,
    /// The connector maps no status, or the source value could not be understood.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enabled => "enabled",
            Status::Disabled => "disabled",
            Status::Deleted => "deleted",
            Status::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "enabled" => Some(Status::Enabled),
            "disabled" => Some(Status::Disabled),
            "deleted" => Some(Status::Deleted),
            "unknown" => Some(Status::Unknown),
            _ => None,
        }
    }
}

/// Who or what an account belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Human,
    Service,
    System,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Human => "human",
            AccountType::Service => "service",
            AccountType::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<AccountType> {
        match s {
            "human" => Some(AccountType::Human),
            "service" => Some(AccountType::Service),
            "system" => Some(AccountType::System),
            _ => None,
        }
    }
}

/// Why an entitlement exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    #[default]
    Assignment,
    Permission,
    Ownership,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Assignment => "assignment",
            Purpose::Permission => "permission",
            Purpose::Ownership => "ownership",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "assignment" => Some(Purpose::Assignment),
            "permission" => Some(Purpose::Permission),
            "ownership" => Some(Purpose::Ownership),
            _ => None,
        }
    }
}

/// A pointer to a resource: its type id and its stable id in the source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    pub resource_type: String,
    pub id: String,
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource_type, self.id)
    }
}

/// A kind of resource the connector lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceType {
    pub id: String,
    pub display_name: String,
    pub traits: Vec<Trait>,
}

/// Typed fields of a user (an account, human or not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserTraits {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
}

/// Metadata of a credential (API key, token, ...). Never its value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretTraits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The principal that owns the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<ResourceRef>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

/// One identity object: an account, a group, a role, an app or a credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub resource_type: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ResourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserTraits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretTraits>,
    /// Free-form attributes the connector chose to keep.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub profile: serde_json::Map<String, serde_json::Value>,
}

impl Resource {
    pub fn reference(&self) -> ResourceRef {
        ResourceRef { resource_type: self.resource_type.clone(), id: self.id.clone() }
    }
}

/// Something that can be granted on a resource (membership of a group, a role, an app permission).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entitlement {
    pub resource: ResourceRef,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub purpose: Purpose,
    pub grantable_to: Vec<String>,
}

impl Entitlement {
    pub fn reference(&self) -> EntitlementRef {
        EntitlementRef { resource: self.resource.clone(), slug: self.slug.clone() }
    }
}

/// A pointer to an entitlement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntitlementRef {
    pub resource: ResourceRef,
    pub slug: String,
}

impl fmt::Display for EntitlementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource, self.slug)
    }
}

/// A principal holds an entitlement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub entitlement: EntitlementRef,
    pub principal: ResourceRef,
}

/// One record produced by a sync, in the order the engine emits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // records travel in batches; boxing would add an allocation per record
pub enum Record {
    ResourceType(ResourceType),
    Resource(Resource),
    Entitlement(Entitlement),
    Grant(Grant),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_names() {
        for s in [Status::Enabled, Status::Disabled, Status::Deleted, Status::Unknown] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for a in [AccountType::Human, AccountType::Service, AccountType::System] {
            assert_eq!(AccountType::parse(a.as_str()), Some(a));
        }
        for p in [Purpose::Assignment, Purpose::Permission, Purpose::Ownership] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Status::parse("active"), None);
    }

    #[test]
    fn grant_reference_displays_as_path() {
        let g = Grant {
            entitlement: EntitlementRef {
                resource: ResourceRef { resource_type: "group".into(), id: "g1".into() },
                slug: "member".into(),
            },
            principal: ResourceRef { resource_type: "user".into(), id: "u1".into() },
        };
        assert_eq!(g.entitlement.to_string(), "group:g1:member");
        let json = serde_json::to_string(&Record::Grant(g.clone())).expect("serialize");
        let back: Record = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, Record::Grant(g));
    }
}

/// Where the engine sends records. The store implements it; the engine knows nothing else of the store.
pub trait RecordSink {
    /// Accept one batch of records, in emission order.
    fn write_batch(&mut self, records: &[Record]) -> Result<(), SinkError>;
}

/// A sink refused records (disk full, database locked, ...).
#[derive(Debug)]
pub struct SinkError(pub String);

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SinkError {}
