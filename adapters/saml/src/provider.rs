//! The service provider: every org's SAML settings, verifying what its IdP posts and
//! sending people to it. It implements the core's [`SamlVerifier`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::org::OrgRegistry;
use jit_provisioning::{
    Assertion, IdpError, IdpRedirect, IdpTrip, SamlAnswer, SamlPost, SamlVerifier,
    VerifiedAssertion,
};

use crate::attributes::AttributeMapping;
use crate::authn_request::{self, RequestBinding};
use crate::config::{OrgSamlConfig, SamlConfigError, SpConfig};
use crate::error::VerifyError;
use crate::fetch::MetadataFetcher;
use crate::idp::TrustedIdp;
use crate::metadata::sp_metadata_xml;
use crate::resolve::org_slot;
use crate::response::{self, Expected, InResponseTo, SignedAssertion, Verified, VerifyOptions};
use crate::signature::SignatureBackend;
use crate::slot::{BuildContext, LoadError, MetadataRefresh, MetadataStatus, OrgSlot};
use crate::sp_key::SpKey;
use crate::xml::Limits;

/// One org's SAML settings, validated.
#[derive(Debug, Clone)]
pub struct OrgProvider {
    pub(crate) sp_entity_id: String,
    pub(crate) acs_url: String,
    pub(crate) idp: TrustedIdp,
    pub(crate) sso_url: String,
    pub(crate) binding: RequestBinding,
    pub(crate) sign_requests: bool,
    pub(crate) mapping: AttributeMapping,
}

impl OrgProvider {
    /// The SP's entity id for this org: the audience its assertions must name.
    pub fn sp_entity_id(&self) -> &str {
        &self.sp_entity_id
    }

    /// The org's ACS URL.
    pub fn acs_url(&self) -> &str {
        &self.acs_url
    }

    /// The org's IdP.
    pub fn idp(&self) -> &TrustedIdp {
        &self.idp
    }

    /// The IdP's SSO URL for the configured binding.
    pub fn sso_url(&self) -> &str {
        &self.sso_url
    }

    /// The attribute mapping.
    pub fn mapping(&self) -> &AttributeMapping {
        &self.mapping
    }
}

/// Every org's SAML settings: verifies what each org's IdP posts and sends people to it.
///
/// Built two ways:
///
/// - from a fixed SAML config file, by [`SamlConfig::validate`](crate::SamlConfig::validate)
///   (the orgs are those of the file, for the life of the process);
/// - over an [`OrgRegistry`], by [`ServiceProvider::from_registry`]: each request looks
///   its org up in the registry, and the org's provider is built from the record's
///   `saml` settings and kept until the record's version changes, so orgs added or
///   changed while the app runs are served at once.
///
/// An org whose metadata comes from `idp.metadata_url` is fetched with the
/// [`MetadataFetcher`] given to [`ServiceProvider::with_metadata_fetcher`], when first
/// needed and again as [`MetadataRefresh`] says; the async methods
/// ([`SamlVerifier`], [`ServiceProvider::verify_post_async`],
/// [`ServiceProvider::sp_metadata_xml`]) fetch, the sync ones use what is loaded.
#[derive(Debug, Clone)]
pub struct ServiceProvider {
    orgs: Orgs,
    base_url: String,
    key: Option<SpKey>,
    backend: SignatureBackend,
    limits: Limits,
    fetcher: Option<Arc<dyn MetadataFetcher>>,
    refresh: MetadataRefresh,
}

#[derive(Debug, Clone)]
enum Orgs {
    Fixed(Arc<HashMap<String, Arc<OrgSlot>>>),
    Registry(Arc<RegistryOrgs>),
}

#[derive(Debug)]
struct RegistryOrgs {
    registry: Arc<OrgRegistry>,
    base_dir: Option<PathBuf>,
    /// Each org's slot, for the record version it was built from.
    slots: Mutex<HashMap<String, Arc<OrgSlot>>>,
}

/// Why a post could not be verified for an org.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostError {
    /// The org has no SAML settings.
    #[error("org `{0}` has no SAML settings")]
    UnknownOrg(String),
    /// The response was refused.
    #[error(transparent)]
    Refused(#[from] VerifyError),
    /// The org's settings cannot be used just now: its record could not be read, or its
    /// IdP's metadata has not been fetched.
    #[error(transparent)]
    Unavailable(#[from] LoadError),
}

impl ServiceProvider {
    pub(crate) fn fixed(
        orgs: HashMap<String, OrgSlot>,
        base_url: String,
        key: Option<SpKey>,
        backend: SignatureBackend,
        limits: Limits,
    ) -> Self {
        Self {
            orgs: Orgs::Fixed(Arc::new(
                orgs.into_iter()
                    .map(|(id, slot)| (id, Arc::new(slot)))
                    .collect(),
            )),
            base_url,
            key,
            backend,
            limits,
            fetcher: None,
            refresh: MetadataRefresh::new(),
        }
    }

    /// A service provider for the orgs of `registry`, with the SP settings of `sp`
    /// (its base URL, key and certificate; files relative to `base_dir`, against which
    /// the orgs' `idp.metadata_file` paths are resolved too).
    ///
    /// Each request looks its org up in the registry (which caches it and follows its
    /// changes); the org's provider is built from the record's `saml` settings, checked
    /// when they were written (see [`SamlSettingsCheck`](crate::SamlSettingsCheck)),
    /// and the entity id the record names, and rebuilt when the record's version
    /// changes. An org without `saml` settings is unknown here.
    pub fn from_registry(
        registry: Arc<OrgRegistry>,
        sp: &SpConfig,
        base_dir: Option<&Path>,
    ) -> Result<Self, SamlConfigError> {
        let (parts, problems) = sp.load(base_dir);
        if !problems.is_empty() {
            return Err(SamlConfigError { problems });
        }
        Ok(Self {
            orgs: Orgs::Registry(Arc::new(RegistryOrgs {
                registry,
                base_dir: base_dir.map(Path::to_path_buf),
                slots: Mutex::new(HashMap::new()),
            })),
            base_url: parts.base_url,
            key: parts.key,
            backend: SignatureBackend::default(),
            limits: Limits::default(),
            fetcher: None,
            refresh: MetadataRefresh::new(),
        })
    }

    /// Fetches the metadata of orgs whose `idp.metadata_url` is set with `fetcher`
    /// (without one, such orgs cannot be served).
    pub fn with_metadata_fetcher(mut self, fetcher: Arc<dyn MetadataFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// When metadata from a URL is fetched again (default [`MetadataRefresh::new`]).
    pub fn with_metadata_refresh(mut self, refresh: MetadataRefresh) -> Self {
        self.refresh = refresh;
        self
    }

    /// The fetcher of metadata from URLs, if one was given
    /// ([`ServiceProvider::with_metadata_fetcher`]): also what an admin page fetches a
    /// new IdP's metadata with, so that the same addresses are refused.
    pub fn metadata_fetcher(&self) -> Option<&Arc<dyn MetadataFetcher>> {
        self.fetcher.as_ref()
    }

    /// The limits on responses.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn key(&self) -> Option<&SpKey> {
        self.key.as_ref()
    }

    /// Where relative `*_file` paths of the orgs' settings are resolved.
    pub(crate) fn base_dir(&self) -> Option<&Path> {
        match &self.orgs {
            Orgs::Fixed(_) => None,
            Orgs::Registry(registry) => registry.base_dir.as_deref(),
        }
    }

    pub(crate) fn verify_options(&self) -> VerifyOptions<'_> {
        VerifyOptions {
            backend: self.backend,
            limits: self.limits,
            decryption_key: self.key.as_ref(),
        }
    }

    /// Uses `backend` for signatures (benchmarks and backend comparisons).
    pub fn with_backend(mut self, backend: SignatureBackend) -> Self {
        self.backend = backend;
        self
    }

    /// The limits on responses (default [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// One org's settings, as loaded: `None` for an org unknown, not looked up yet
    /// (over a registry), or whose metadata has not been fetched yet.
    pub fn org(&self, org: &str) -> Option<Arc<OrgProvider>> {
        self.loaded_slot(org)?.loaded()
    }

    /// One org's settings, looking the org up (over a registry) and fetching its IdP's
    /// metadata when it is due, as a sign-in does: `Ok(None)` for an org without SAML
    /// settings (or whose first trust still waits for its test).
    pub async fn org_settings(
        &self,
        org: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<OrgProvider>>, LoadError> {
        let Some(slot) = self.slot(org).await? else {
            return Ok(None);
        };
        Ok(Some(slot.current(self.context(), now).await?))
    }

    /// The org ids with SAML settings, sorted: the file's, or over a registry the orgs
    /// looked up so far.
    pub fn org_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = match &self.orgs {
            Orgs::Fixed(slots) => slots.keys().cloned().collect(),
            Orgs::Registry(registry) => registry.slots().keys().cloned().collect(),
        };
        ids.sort_unstable();
        ids
    }

    /// How `org`'s metadata from a URL stands (when it was fetched, when it is due,
    /// the last error); `None` for an org whose metadata is not from a URL, or not
    /// looked up yet.
    pub fn metadata_status(&self, org: &str) -> Option<MetadataStatus> {
        self.loaded_slot(org)?.status()
    }

    /// The SP metadata XML for `org` (what its admin gives the IdP), from the settings
    /// as loaded: see [`ServiceProvider::sp_metadata_xml`], which looks the org up and
    /// fetches what it needs.
    pub fn metadata_xml(&self, org: &str) -> Option<String> {
        Some(self.sp_metadata_of(self.org(org)?.as_ref()))
    }

    /// The SP metadata XML for `org`, looking the org up (over a registry) and
    /// fetching its IdP's metadata if needed (whether AuthnRequests are signed may
    /// depend on it); `Ok(None)` for an org without SAML settings. An org whose first
    /// IdP trust waits for its test has its metadata already: its IdP is being set up
    /// with it.
    pub async fn sp_metadata_xml(
        &self,
        org: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, LoadError> {
        let Some(slot) = self.slot(org).await? else {
            let waiting = self.awaits_first_trust(org).await?;
            return Ok(waiting.then(|| self.sp_values(org, None).metadata_xml));
        };
        let provider = slot.current(self.context(), now).await?;
        Ok(Some(self.sp_metadata_of(&provider)))
    }

    fn sp_metadata_of(&self, settings: &OrgProvider) -> String {
        sp_metadata_xml(
            &settings.sp_entity_id,
            &settings.acs_url,
            self.key.as_ref().and_then(SpKey::certificate),
            settings.sign_requests,
        )
    }

    /// Verifies what `org`'s IdP posted, at `now`, and maps it into the core's answer,
    /// with the settings as loaded (no lookup, no fetch: see
    /// [`ServiceProvider::verify_post_async`]).
    pub fn verify_post(
        &self,
        post: &SamlPost,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, PostError> {
        let slot = self
            .loaded_slot(&post.org)
            .ok_or_else(|| PostError::UnknownOrg(post.org.clone()))?;
        let settings = slot.loaded().ok_or_else(|| {
            LoadError::new(&post.org, "the IdP metadata has not been fetched yet")
        })?;
        self.verify_with(&settings, post, now)
    }

    /// Verifies like [`ServiceProvider::verify_post`], after looking the org up (over a
    /// registry) and fetching its IdP's metadata when it is due. When the signature
    /// verifies with none of the IdP's certificates and the metadata comes from a URL,
    /// it is fetched again (at most once per [`MetadataRefresh::min_interval`], and only
    /// if it is that old) and the response verified again: an IdP that rolled its key
    /// is followed at the first sign-in after.
    pub async fn verify_post_async(
        &self,
        post: &SamlPost,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, PostError> {
        let (_, answer) = self.verify_looked_up(post, None, now).await?;
        Ok(answer)
    }

    /// The verification behind [`ServiceProvider::verify_post_async`] and the
    /// [`SamlVerifier`] impl: with `idp`, the org's entity id must be it.
    async fn verify_looked_up(
        &self,
        post: &SamlPost,
        idp: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Arc<OrgProvider>, SamlAnswer), PostError> {
        let slot = self
            .slot(&post.org)
            .await?
            .ok_or_else(|| PostError::UnknownOrg(post.org.clone()))?;
        let context = self.context();
        let settings = slot.current(context, now).await?;
        if let Some(idp) = idp.filter(|idp| settings.idp.entity_id() != *idp) {
            // The SAML settings and the policy were checked together; a mismatch here
            // is a config swapped at runtime.
            return Err(LoadError::new(
                &post.org,
                format!(
                    "the SAML IdP is `{}` but the policy's is `{idp}`",
                    settings.idp.entity_id()
                ),
            )
            .into());
        }
        match self.verify_with(&settings, post, now) {
            Err(PostError::Refused(refused)) if refused.is_untrusted_key() => {
                let Some(fresh) = slot
                    .refetch_after_bad_signature(context, now, &settings)
                    .await
                else {
                    return Err(refused.into());
                };
                let answer = self.verify_with(&fresh, post, now)?;
                Ok((fresh, answer))
            }
            other => other.map(|answer| (settings, answer)),
        }
    }

    fn verify_with(
        &self,
        settings: &OrgProvider,
        post: &SamlPost,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, PostError> {
        let options = self.verify_options();
        let xml = response::decode_post(&post.saml_response, self.limits)?;
        let expected = Expected {
            sp_entity_id: &settings.sp_entity_id,
            acs_url: &settings.acs_url,
            in_response_to: InResponseTo::OneOf(&post.request_ids),
        };
        let verified = response::verify(&xml, &settings.idp, &expected, now, &options)?;
        Ok(match verified {
            Verified::Status(status) => {
                let mut error = IdpError::new(post.org.clone(), status.status);
                error.sub_status = status.sub_status;
                SamlAnswer::Status(error)
            }
            Verified::Assertion(signed) => SamlAnswer::Assertion(VerifiedAssertion::new(
                to_assertion(&post.org, &signed, &settings.mapping)?,
                signed.id,
                signed.not_on_or_after,
            )),
        })
    }

    fn context(&self) -> BuildContext<'_> {
        BuildContext {
            base_url: &self.base_url,
            has_key: self.key.is_some(),
            fetcher: self.fetcher.as_deref(),
            refresh: self.refresh,
        }
    }

    /// The org's slot as it is, without a lookup.
    fn loaded_slot(&self, org: &str) -> Option<Arc<OrgSlot>> {
        match &self.orgs {
            Orgs::Fixed(slots) => slots.get(org).cloned(),
            Orgs::Registry(registry) => registry.slots().get(org).cloned(),
        }
    }

    /// The org's slot: over a registry, for the org's current record version.
    async fn slot(&self, org: &str) -> Result<Option<Arc<OrgSlot>>, LoadError> {
        let registry = match &self.orgs {
            Orgs::Fixed(slots) => return Ok(slots.get(org).cloned()),
            Orgs::Registry(registry) => registry,
        };
        let live =
            registry.registry.org(org).await.map_err(|error| {
                LoadError::new(org, format!("the org could not be read: {error}"))
            })?;
        let Some(live) = live else { return Ok(None) };
        let record = live.record();
        // A first trust that waits for its test serves no sign-in.
        let Some(section) = record
            .config
            .saml
            .as_ref()
            .filter(|section| !section.awaits_first_trust())
        else {
            return Ok(None);
        };
        if let Some(slot) = registry
            .slots()
            .get(org)
            .filter(|slot| slot.version() == record.version)
        {
            return Ok(Some(Arc::clone(slot)));
        }
        let settings =
            OrgSamlConfig::from_section(section).map_err(|problem| LoadError::new(org, problem))?;
        let slot = org_slot(
            org,
            record.version,
            &settings,
            record.config.idp.as_deref(),
            registry.base_dir.as_deref(),
            &self.base_url,
            Some(self.key.is_some()),
        )
        .map_err(|problems| {
            LoadError::new(
                org,
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let slot = Arc::new(slot);
        let mut slots = registry.slots();
        match slots.get(org) {
            // A request that read a newer record got there first.
            Some(kept) if kept.version() > record.version => {}
            _ => {
                slots.insert(org.to_owned(), Arc::clone(&slot));
            }
        }
        Ok(Some(slot))
    }
}

impl ServiceProvider {
    /// Whether `org`'s record holds a first IdP trust waiting for its test, and no trust
    /// in use (never for a fixed config).
    async fn awaits_first_trust(&self, org: &str) -> Result<bool, LoadError> {
        let Orgs::Registry(registry) = &self.orgs else {
            return Ok(false);
        };
        let live =
            registry.registry.org(org).await.map_err(|error| {
                LoadError::new(org, format!("the org could not be read: {error}"))
            })?;
        Ok(live.is_some_and(|live| {
            live.record()
                .config
                .saml
                .as_ref()
                .is_some_and(|section| section.awaits_first_trust())
        }))
    }

    /// The AuthnRequest for a trip to the IdP of `settings`, issued at `now`.
    pub(crate) fn authn_request_with(
        &self,
        settings: &OrgProvider,
        trip: &IdpTrip,
        now: DateTime<Utc>,
    ) -> Result<IdpRedirect, jit_provisioning::VerifyError> {
        let backend = |error: String| jit_provisioning::VerifyError::Backend(error.into());
        let id = authn_request::new_request_id()
            .map_err(|error| backend(format!("no randomness for a request id: {error}")))?;
        let request = authn_request::Request {
            sp_entity_id: &settings.sp_entity_id,
            acs_url: &settings.acs_url,
            sso_url: &settings.sso_url,
            force_authn: trip.force_authn,
            relay_state: trip.relay_state.as_deref(),
            now,
        };
        let key = if settings.sign_requests {
            self.key.as_ref()
        } else {
            None
        };
        authn_request::build(&request, id, settings.binding, key)
            .map_err(|error| backend(format!("DEFLATE failed: {error}")))
    }
}

impl RegistryOrgs {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OrgSlot>>> {
        // Nothing panics while the lock is held.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The core's assertion from a signed one, through the org's attribute mapping.
pub fn to_assertion(
    org: &str,
    signed: &SignedAssertion,
    mapping: &AttributeMapping,
) -> Result<Assertion, VerifyError> {
    let person = mapping
        .map(signed.name_id.as_ref(), &signed.attributes)
        .map_err(|error| VerifyError::NoSubject(error.to_string()))?;
    let mut assertion = Assertion::new(org, signed.issuer.clone(), person.subject);
    assertion.given_name = person.given_name;
    assertion.family_name = person.family_name;
    assertion.email = person.email;
    assertion.groups = person.groups;
    assertion.groups_incomplete = person.groups_incomplete;
    assertion.authn_instant = signed.authn_instant;
    Ok(assertion)
}

#[async_trait]
impl SamlVerifier for ServiceProvider {
    async fn verify(
        &self,
        post: &SamlPost,
        idp: &str,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, jit_provisioning::VerifyError> {
        self.verify_looked_up(post, Some(idp), now)
            .await
            .map(|(_, answer)| answer)
            .map_err(|error| match error {
                PostError::Refused(refused) => refused.into(),
                other => jit_provisioning::VerifyError::Backend(Box::new(other)),
            })
    }

    async fn authn_request(
        &self,
        trip: &IdpTrip,
        now: DateTime<Utc>,
    ) -> Result<IdpRedirect, jit_provisioning::VerifyError> {
        let backend = |error: String| jit_provisioning::VerifyError::Backend(error.into());
        let slot = self
            .slot(&trip.org)
            .await
            .map_err(|error| jit_provisioning::VerifyError::Backend(Box::new(error)))?
            .ok_or_else(|| backend(format!("org `{}` has no SAML settings", trip.org)))?;
        let settings = slot
            .current(self.context(), now)
            .await
            .map_err(|error| jit_provisioning::VerifyError::Backend(Box::new(error)))?;
        self.authn_request_with(&settings, trip, now)
    }
}
