//! The demo's test IdP at `/idp`: jit-provisioning-saml's `TestIdpRouter`, picking from
//! the config's `[[people]]`.

use std::sync::Arc;

use axum::Router;
use jit_provisioning_saml::test_idp::{TestIdp, TestIdpRouter, TestPerson};

use crate::config::Person;

/// The IdP's routes under `{base_url}/idp`. It answers only the demo's own SP: ACS URLs
/// under `base_url`.
pub(crate) fn routes(
    idp: Arc<TestIdp>,
    people: &[Person],
    base_url: &str,
) -> Result<Router, String> {
    let router = TestIdpRouter::new(idp, &format!("{base_url}/idp"))
        .map_err(|error| error.to_string())?
        .with_people(people.iter().map(person))
        .allow_acs_url_prefix(format!("{base_url}/"));
    Ok(router.router())
}

/// Someone of the config, as the IdP offers them.
fn person(person: &Person) -> TestPerson {
    let mut someone = TestPerson::new(person.subject.clone())
        .with_label(person.label.clone())
        .with_groups(person.groups.clone())
        .with_assigned(person.assigned);
    someone.given_name.clone_from(&person.given_name);
    someone.family_name.clone_from(&person.family_name);
    someone.email.clone_from(&person.email);
    someone
}
