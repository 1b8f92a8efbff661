//! SAML metadata: reading the IdP's (what admins download from Okta, Entra ID or Google
//! Workspace) and writing the SP's (what they paste back into the IdP).

use chrono::{DateTime, TimeDelta, Utc};

use crate::cert::Certificate;
use crate::error::VerifyError;
use crate::xml::{self, escape, Limits, DS, MD};

/// The HTTP-Redirect binding's URI.
pub const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The HTTP-POST binding's URI.
pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// What an IdP's metadata says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdpMetadata {
    /// The IdP's entity id (`entityID`).
    pub entity_id: String,
    /// The `SingleSignOnService` location for HTTP-Redirect, if offered.
    pub sso_redirect_url: Option<String>,
    /// The `SingleSignOnService` location for HTTP-POST, if offered.
    pub sso_post_url: Option<String>,
    /// Every signing certificate (a `KeyDescriptor` with `use="signing"` or no `use`);
    /// several during a key rollover.
    pub signing_certificates: Vec<Certificate>,
    /// `WantAuthnRequestsSigned`.
    pub wants_signed_requests: bool,
    /// The earliest `validUntil` of the document element, the IdP's `EntityDescriptor`
    /// and its `IDPSSODescriptor`: metadata fetched from a URL is fetched again then.
    pub valid_until: Option<DateTime<Utc>>,
    /// The shortest `cacheDuration` of the same elements: how long metadata fetched from
    /// a URL may be kept before it is fetched again.
    pub cache_duration: Option<TimeDelta>,
}

/// Metadata that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IdP metadata: {0}")]
pub struct MetadataError(pub String);

impl From<VerifyError> for MetadataError {
    fn from(error: VerifyError) -> Self {
        MetadataError(error.to_string())
    }
}

/// Metadata documents can be large (federation aggregates are megabytes); one IdP's is
/// a few kilobytes.
const METADATA_LIMITS: Limits = Limits {
    max_bytes: 4 * 1024 * 1024,
    max_depth: 64,
};

impl IdpMetadata {
    /// Reads an `EntityDescriptor`, or the one IdP of an `EntitiesDescriptor`, or with
    /// `entity_id` the IdP of that id among several.
    pub fn parse(text: &str, entity_id: Option<&str>) -> Result<Self, MetadataError> {
        let doc = xml::parse(text, METADATA_LIMITS)?;
        let root = doc
            .document_element()
            .ok_or_else(|| MetadataError("no document element".into()))?;
        let mut candidates = Vec::new();
        if xml::is(&doc, root, MD, "EntityDescriptor") {
            candidates.push(root);
        } else if xml::is(&doc, root, MD, "EntitiesDescriptor") {
            candidates = xml::descendants_named(&doc, root, MD, "EntityDescriptor");
        } else {
            return Err(MetadataError(format!(
                "the document element is `{}`, not md:EntityDescriptor",
                xml::local_name(&doc, root)
            )));
        }
        candidates.retain(|&entity| {
            xml::children(&doc, entity, MD, "IDPSSODescriptor")
                .next()
                .is_some()
                && entity_id
                    .is_none_or(|wanted| xml::attr(&doc, entity, "entityID") == Some(wanted))
        });
        let entity = match candidates.as_slice() {
            [one] => *one,
            [] => {
                return Err(MetadataError(match entity_id {
                    Some(wanted) => format!("no IdP with entity id `{wanted}`"),
                    None => "no IDPSSODescriptor: this is not an IdP's metadata".into(),
                }))
            }
            _ => {
                return Err(MetadataError(format!(
                    "{} IdPs in one document; name the one to use by its entity id",
                    candidates.len()
                )))
            }
        };
        let entity_id = xml::required_attr(&doc, entity, "entityID")?
            .trim()
            .to_owned();
        let descriptor = xml::required_child(&doc, entity, MD, "IDPSSODescriptor")?;
        let mut metadata = IdpMetadata {
            entity_id,
            sso_redirect_url: None,
            sso_post_url: None,
            signing_certificates: Vec::new(),
            wants_signed_requests: matches!(
                xml::attr(&doc, descriptor, "WantAuthnRequestsSigned"),
                Some("true" | "1")
            ),
            valid_until: None,
            cache_duration: None,
        };
        let mut levels = vec![root, entity, descriptor];
        levels.dedup();
        for node in levels {
            if let Some(until) = xml::instant(&doc, node, "validUntil")? {
                metadata.valid_until = Some(metadata.valid_until.map_or(until, |u| u.min(until)));
            }
            if let Some(text) = xml::attr(&doc, node, "cacheDuration") {
                let duration = xs_duration(text).ok_or_else(|| {
                    MetadataError(format!(
                        "cacheDuration on {} is not an xs:duration: `{text}`",
                        xml::local_name(&doc, node)
                    ))
                })?;
                metadata.cache_duration = Some(
                    metadata
                        .cache_duration
                        .map_or(duration, |d| d.min(duration)),
                );
            }
        }
        for key in xml::children(&doc, descriptor, MD, "KeyDescriptor") {
            if !matches!(xml::attr(&doc, key, "use"), None | Some("signing")) {
                continue;
            }
            for info in xml::children(&doc, key, DS, "KeyInfo") {
                for data in xml::children(&doc, info, DS, "X509Data") {
                    for certificate in xml::children(&doc, data, DS, "X509Certificate") {
                        let certificate = Certificate::from_base64(&xml::text(&doc, certificate)?)
                            .map_err(|error| MetadataError(error.to_string()))?;
                        if !metadata.signing_certificates.contains(&certificate) {
                            metadata.signing_certificates.push(certificate);
                        }
                    }
                }
            }
        }
        for service in xml::children(&doc, descriptor, MD, "SingleSignOnService") {
            let location = xml::required_attr(&doc, service, "Location")?
                .trim()
                .to_owned();
            match xml::attr(&doc, service, "Binding") {
                Some(HTTP_REDIRECT) => {
                    metadata.sso_redirect_url.get_or_insert(location);
                }
                Some(HTTP_POST) => {
                    metadata.sso_post_url.get_or_insert(location);
                }
                _ => {}
            }
        }
        if metadata.signing_certificates.is_empty() {
            return Err(MetadataError(format!(
                "the IdP `{}` lists no signing certificate",
                metadata.entity_id
            )));
        }
        if metadata.sso_redirect_url.is_none() && metadata.sso_post_url.is_none() {
            return Err(MetadataError(format!(
                "the IdP `{}` has no SingleSignOnService for HTTP-Redirect or HTTP-POST",
                metadata.entity_id
            )));
        }
        Ok(metadata)
    }
}

/// Longest `cacheDuration` read: more is kept as this (a refetch is due after a day
/// whatever the metadata says).
const MAX_CACHE_DURATION_SECS: u64 = 366 * 24 * 3600;

/// An `xs:duration` (`PT6H`, `P1D`, `P0Y0M1DT2H30M10.5S`) as a time span; `None` when
/// it is not one or is negative. Years count 365 days and months 30: the span only
/// schedules a refetch.
pub(crate) fn xs_duration(text: &str) -> Option<TimeDelta> {
    let rest = text.trim().strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => {
            if time.is_empty() {
                return None;
            }
            (date, time)
        }
        None => (rest, ""),
    };
    if date.is_empty() && time.is_empty() {
        return None;
    }
    let mut seconds: u64 = 0;
    for (part, units) in [
        (
            date,
            &[('Y', 365 * 86_400), ('M', 30 * 86_400), ('D', 86_400)][..],
        ),
        (time, &[('H', 3600), ('M', 60), ('S', 1)][..]),
    ] {
        let mut rest = part;
        let mut unit_index = 0;
        while !rest.is_empty() {
            let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
            let (number, after) = rest.split_at(end);
            let mut chars = after.chars();
            let designator = chars.next()?;
            rest = chars.as_str();
            let position = units
                .iter()
                .skip(unit_index)
                .position(|(unit, _)| *unit == designator)?;
            unit_index += position + 1;
            let (_, unit_seconds) = units.get(unit_index - 1)?;
            let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
            if whole.is_empty() || (designator != 'S' && !fraction.is_empty()) {
                return None;
            }
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let whole: u64 = whole.parse().ok()?;
            seconds = seconds.saturating_add(whole.saturating_mul(*unit_seconds));
        }
    }
    let seconds = seconds.min(MAX_CACHE_DURATION_SECS);
    TimeDelta::try_seconds(i64::try_from(seconds).ok()?)
}

/// The SP's metadata for one org: its entity id, its ACS (HTTP-POST), and its
/// certificate for signing requests and receiving encrypted assertions, if it has one.
/// [`ServiceProvider::metadata_xml`](crate::ServiceProvider::metadata_xml) fills it in
/// from the config.
pub fn sp_metadata_xml(
    entity_id: &str,
    acs_url: &str,
    certificate: Option<&Certificate>,
    signs_requests: bool,
) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push('\n');
    out.push_str(&format!(
        r#"<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{}">"#,
        escape(entity_id)
    ));
    out.push_str(&format!(
        "\n  <md:SPSSODescriptor AuthnRequestsSigned=\"{signs_requests}\" WantAssertionsSigned=\"true\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
    ));
    if let Some(certificate) = certificate {
        for usage in ["signing", "encryption"] {
            out.push_str(&format!(
                "\n    <md:KeyDescriptor use=\"{usage}\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                certificate.to_base64()
            ));
        }
    }
    out.push_str(
        "\n    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>",
    );
    out.push_str(&format!(
        "\n    <md:AssertionConsumerService Binding=\"{HTTP_POST}\" Location=\"{}\" index=\"0\" isDefault=\"true\"/>",
        escape(acs_url)
    ));
    out.push_str("\n  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn xs_durations() {
        for (text, seconds) in [
            ("PT10M", 600),
            ("PT6H", 6 * 3600),
            ("P1D", 86_400),
            ("PT1H30M", 5400),
            ("PT1.5S", 1),
            ("P1M", 30 * 86_400),
            ("P0Y0M1DT2H30M10S", 86_400 + 2 * 3600 + 1800 + 10),
            (" PT5M ", 300),
            ("P1000Y", MAX_CACHE_DURATION_SECS),
        ] {
            assert_eq!(
                xs_duration(text),
                Some(TimeDelta::seconds(i64::try_from(seconds).unwrap())),
                "{text}"
            );
        }
        for text in [
            "", "P", "PT", "-PT5M", "5M", "PT5", "P5H", "PT1M1H", "P1.5D", "PT5M5M", "PTM", "P1DT",
        ] {
            assert_eq!(xs_duration(text), None, "{text}");
        }
    }
}
