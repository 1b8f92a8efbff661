//! Organization roles and the memberships that grant them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A level of organization membership, lowest first.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Basic member: the seed's default for accounts created just in time.
    Member,
    /// May contribute to the organization's content.
    Contributor,
    /// Administers the organization.
    Admin,
}

impl Role {
    /// The role's name as it appears in configs and case files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Contributor => "contributor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is none of `member`, `contributor`, `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: expected `member`, `contributor` or `admin`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "member" => Ok(Role::Member),
            "contributor" => Ok(Role::Contributor),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// A membership in one organization with one role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The organization's id.
    pub org: String,
    /// The role held there.
    pub role: Role,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of `{}`", self.role, self.org)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Member, Role::Contributor, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(
            "owner".parse::<Role>(),
            Err(UnknownRole("owner".to_owned()))
        );
        assert!("Member".parse::<Role>().is_err(), "role names are exact");
    }
}
