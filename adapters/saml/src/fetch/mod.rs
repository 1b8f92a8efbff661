//! IdP metadata from a URL (`idp.metadata_url`): what fetches it, and which addresses a
//! fetch must never reach.
//!
//! A [`MetadataFetcher`] is asked for the body at a URL. The crate's own,
//! [`HttpFetcher`] (feature `http-fetch`), is made for URLs that an org's admin types:
//! it refuses hosts that resolve to an address inside the deployment's network
//! ([`AddressClass`]), connects only to the address it checked, and bounds the time and
//! the size of the answer.

#[cfg(feature = "http-fetch")]
mod http;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[cfg(feature = "http-fetch")]
pub use http::{HttpFetcher, DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_METADATA_BYTES};

/// Fetches an IdP's metadata from a URL.
///
/// [`HttpFetcher`] (feature `http-fetch`) is the crate's; an app may bring its own (a
/// cache shared by its servers, a proxy it must go through). A fetcher that answers from
/// a cache gives the time the body was fetched from the IdP, not the time it was read
/// from the cache: the metadata's `cacheDuration` and the 24-hour limit count from it.
#[async_trait]
pub trait MetadataFetcher: Send + Sync + std::fmt::Debug {
    /// The body at `url`, or why there is none.
    async fn fetch(&self, url: &str) -> Result<FetchedMetadata, FetchError>;
}

/// A metadata document as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchedMetadata {
    /// The XML.
    pub body: String,
    /// When it was fetched from the IdP.
    pub fetched_at: DateTime<Utc>,
}

impl FetchedMetadata {
    /// `body`, fetched at `fetched_at`.
    pub fn new(body: impl Into<String>, fetched_at: DateTime<Utc>) -> Self {
        FetchedMetadata {
            body: body.into(),
            fetched_at,
        }
    }
}

/// Why a fetch brought no metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Not an absolute `https://` URL with a host (and no user name or password).
    #[error("`{url}` is not a metadata URL: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain `http://` URL, where only `https://` is fetched.
    #[error("`{url}` is not https: IdP metadata is fetched only over https, or a man in the middle could choose which keys are trusted")]
    NotHttps {
        /// The URL.
        url: String,
    },
    /// The host is, or resolves to, an address a fetch must not reach.
    #[error("`{url}` leads to {address}, a {class} address; metadata is fetched only from public addresses")]
    RefusedAddress {
        /// The URL.
        url: String,
        /// The address.
        address: IpAddr,
        /// What kind of address it is.
        class: AddressClass,
    },
    /// The answer took too long.
    #[error("fetching `{url}` took more than {} s", .after.as_secs_f32())]
    Timeout {
        /// The URL.
        url: String,
        /// The time allowed.
        after: std::time::Duration,
    },
    /// The answer was not `200 OK` (redirects are not followed).
    #[error("`{url}` answered {status}{}", .location.as_ref().map(|to| format!(", a redirect to `{to}`: give that URL")).unwrap_or_default())]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Where a redirect pointed.
        location: Option<String>,
    },
    /// The answer is larger than allowed.
    #[error("`{url}` sent more than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The host could not be resolved or reached, TLS failed, or the answer was not text.
    #[error("fetching `{url}` failed: {reason}")]
    Failed {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
}

/// A kind of address that metadata is never fetched from (unless the fetcher is told
/// otherwise, for tests and private deployments): addresses inside the deployment's own
/// network, where a URL typed by an org's admin could reach services that the internet
/// cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918); IPv6 site-local
    /// `fec0::/10`.
    Private,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `169.254.0.0/16` (cloud metadata services live there), `fe80::/10`.
    LinkLocal,
    /// IPv6 unique-local `fc00::/7`.
    UniqueLocal,
    /// Carrier-grade NAT `100.64.0.0/10` (RFC 6598).
    SharedCgnat,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `0.0.0.0/8` ("this network": `0.0.0.0` reaches the host itself), `::`.
    Unspecified,
    /// `255.255.255.255`, `240.0.0.0/4`, `192.0.0.0/24`, `198.18.0.0/15`: not
    /// addresses of a public server.
    Reserved,
}

impl AddressClass {
    /// The class's name, as errors say it.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressClass::Private => "private",
            AddressClass::Loopback => "loopback",
            AddressClass::LinkLocal => "link-local",
            AddressClass::UniqueLocal => "unique-local",
            AddressClass::SharedCgnat => "shared (carrier-grade NAT)",
            AddressClass::Multicast => "multicast",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Reserved => "reserved",
        }
    }
}

impl std::fmt::Display for AddressClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of an address a fetch must not reach; `None` for a public address.
///
/// An IPv6 address that carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`,
/// IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`) is
/// judged by the IPv4 address it reaches.
///
/// ```
/// use jit_provisioning_saml::{address_class, AddressClass};
///
/// assert_eq!(address_class("169.254.169.254".parse().unwrap()), Some(AddressClass::LinkLocal));
/// assert_eq!(address_class("::ffff:10.1.2.3".parse().unwrap()), Some(AddressClass::Private));
/// assert_eq!(address_class("140.82.112.3".parse().unwrap()), None);
/// ```
pub fn address_class(address: IpAddr) -> Option<AddressClass> {
    match address {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn v4_class(address: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = address.octets();
    Some(match (a, b, c) {
        (0, _, _) => AddressClass::Unspecified,
        (127, _, _) => AddressClass::Loopback,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => AddressClass::Private,
        (169, 254, _) => AddressClass::LinkLocal,
        (100, 64..=127, _) => AddressClass::SharedCgnat,
        (224..=239, _, _) => AddressClass::Multicast,
        (240..=255, _, _) | (192, 0, 0) | (198, 18..=19, _) => AddressClass::Reserved,
        _ => return None,
    })
}

fn v6_class(address: Ipv6Addr) -> Option<AddressClass> {
    let segments = address.segments();
    let octets = address.octets();
    let embedded = |at: usize| -> Option<Ipv4Addr> {
        let bytes: [u8; 4] = octets.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(bytes))
    };
    if address.is_unspecified() {
        return Some(AddressClass::Unspecified);
    }
    if address.is_loopback() {
        return Some(AddressClass::Loopback);
    }
    match segments {
        // IPv4-mapped and IPv4-compatible: the socket reaches the IPv4 address.
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => {
            return embedded(12).and_then(v4_class)
        }
        // NAT64's well-known prefix reaches the IPv4 address through the gateway; its
        // local-use prefix is the deployment's own.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => return embedded(12).and_then(v4_class),
        [0x64, 0xff9b, 1, ..] => return Some(AddressClass::Private),
        // 6to4 carries the IPv4 address of its relay's other end.
        [0x2002, ..] => return embedded(2).and_then(v4_class),
        _ => {}
    }
    let first = segments.first().copied().unwrap_or_default();
    match first {
        0xfc00..=0xfdff => Some(AddressClass::UniqueLocal),
        0xfe80..=0xfebf => Some(AddressClass::LinkLocal),
        0xfec0..=0xfeff => Some(AddressClass::Private),
        0xff00..=0xffff => Some(AddressClass::Multicast),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn class(text: &str) -> Option<AddressClass> {
        address_class(text.parse().unwrap())
    }

    #[test]
    fn every_class_of_ipv4() {
        for (address, expected) in [
            ("10.0.0.1", Some(AddressClass::Private)),
            ("172.16.0.1", Some(AddressClass::Private)),
            ("172.31.255.255", Some(AddressClass::Private)),
            ("192.168.1.1", Some(AddressClass::Private)),
            ("127.0.0.1", Some(AddressClass::Loopback)),
            ("127.255.0.9", Some(AddressClass::Loopback)),
            ("169.254.169.254", Some(AddressClass::LinkLocal)),
            ("100.64.0.1", Some(AddressClass::SharedCgnat)),
            ("100.127.255.254", Some(AddressClass::SharedCgnat)),
            ("224.0.0.1", Some(AddressClass::Multicast)),
            ("239.255.255.250", Some(AddressClass::Multicast)),
            ("0.0.0.0", Some(AddressClass::Unspecified)),
            ("0.1.2.3", Some(AddressClass::Unspecified)),
            ("255.255.255.255", Some(AddressClass::Reserved)),
            ("240.0.0.1", Some(AddressClass::Reserved)),
            ("172.15.255.255", None),
            ("172.32.0.1", None),
            ("100.63.255.255", None),
            ("100.128.0.1", None),
            ("8.8.8.8", None),
            ("140.82.112.3", None),
        ] {
            assert_eq!(class(address), expected, "{address}");
        }
    }

    #[test]
    fn every_class_of_ipv6_and_embedded_ipv4() {
        for (address, expected) in [
            ("::1", Some(AddressClass::Loopback)),
            ("::", Some(AddressClass::Unspecified)),
            ("fe80::1", Some(AddressClass::LinkLocal)),
            ("febf::1", Some(AddressClass::LinkLocal)),
            ("fc00::1", Some(AddressClass::UniqueLocal)),
            ("fd12:3456::1", Some(AddressClass::UniqueLocal)),
            ("fec0::1", Some(AddressClass::Private)),
            ("ff02::1", Some(AddressClass::Multicast)),
            ("::ffff:127.0.0.1", Some(AddressClass::Loopback)),
            ("::ffff:10.1.2.3", Some(AddressClass::Private)),
            ("::ffff:169.254.169.254", Some(AddressClass::LinkLocal)),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some(AddressClass::Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(AddressClass::LinkLocal)),
            ("64:ff9b::808:808", None),
            ("64:ff9b:1::1", Some(AddressClass::Private)),
            ("2002:0a00:0001::1", Some(AddressClass::Private)),
            ("2002:0808:0808::1", None),
            ("2606:4700::1111", None),
        ] {
            assert_eq!(class(address), expected, "{address}");
        }
    }
}
