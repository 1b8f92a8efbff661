//! The demo's config file (`demo/config.toml`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the demo runs on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// Where to listen, `host:port`.
    pub addr: String,
    /// Where accounts, sessions and the IdP's key live.
    pub data_dir: PathBuf,
    /// The orgs imported into the demo's database on first run, each with its SAML
    /// settings under `saml` (the test IdP's metadata is filled in where `saml.idp` is
    /// left out), and the deployment-wide settings. After the first run the database
    /// wins: change orgs with `jit-provisioning orgs …`.
    pub policy: jit_provisioning::Config,
    /// Who the test IdP can sign in as.
    pub people: Vec<Person>,
    /// Accounts that exist before the first SSO sign-in.
    #[serde(default)]
    pub seed: Seed,
}

/// Someone the test IdP knows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// What the IdP's page calls them.
    pub label: String,
    /// Their NameID.
    pub subject: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether the app is assigned to them; if not, the IdP answers `RequestDenied`.
    #[serde(default = "assigned_by_default")]
    pub assigned: bool,
}

fn assigned_by_default() -> bool {
    true
}

/// Accounts made before SSO, and members signed in once at first start.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Accounts with a password, made before SSO was turned on.
    #[serde(default)]
    pub before_sso: Vec<EarlyAccount>,
    /// People (by subject, from `people`) who sign in once through the IdP at first start.
    #[serde(default)]
    pub members: Vec<Member>,
}

/// An account made before SSO.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyAccount {
    /// Its handle.
    pub handle: String,
    /// Its email.
    pub email: String,
}

/// A member made at first start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The person's subject.
    pub subject: String,
}

impl DemoConfig {
    /// Reads the config file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// The config shipped with the demo.
    pub fn shipped() -> Result<Self, String> {
        toml::from_str(include_str!("../config.toml")).map_err(|error| error.to_string())
    }
}
