//! Where an org's SSO connection stands: being set up, open, or closed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The state of an org's SSO connection.
///
/// In configs: `state = "draft"`, `"active"` (the default) or `"inactive"`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgState {
    /// Set up but not open: only test sign-ins
    /// ([`Provisioner::test_login`](crate::Provisioner::test_login)), which decide and
    /// apply nothing. Everyone else is told the login is not open yet.
    Draft,
    /// Open: the portal signs people in and creates accounts as the policy says.
    #[default]
    Active,
    /// Closed: the portal answers as with JIT off, with a page that says so. Nothing of
    /// the org's setup is lost; enabling it again opens it as it was.
    Inactive,
}

impl OrgState {
    /// Every state, in the order an org usually passes through them.
    pub const ALL: [OrgState; 3] = [OrgState::Draft, OrgState::Active, OrgState::Inactive];

    /// The name as a config writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrgState::Draft => "draft",
            OrgState::Active => "active",
            OrgState::Inactive => "inactive",
        }
    }

    /// Whether this is the default state, which a written config leaves out.
    pub fn is_active(&self) -> bool {
        *self == OrgState::Active
    }
}

impl fmt::Display for OrgState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrgState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OrgState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| {
                format!("unknown state `{text}`: expected `draft`, `active` or `inactive`")
            })
    }
}
