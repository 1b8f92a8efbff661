//! The crate's HTTP(S) metadata fetcher (feature `http-fetch`): hyper's HTTP/1.1 client
//! over a TCP connection this module opens itself, to an address it has checked.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper::header;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use super::{address_class, FetchError, FetchedMetadata, MetadataFetcher};

/// How long a fetch may take, from resolving the host to the last byte: 10 seconds.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest metadata accepted: 4 MiB, what the metadata parser reads at most.
pub const DEFAULT_MAX_METADATA_BYTES: usize = 4 * 1024 * 1024;

/// Fetches metadata over HTTPS, for URLs typed by an org's admin.
///
/// - Only `https://` (unless [`HttpFetcher::allow_http`]), verified against the Mozilla
///   roots (webpki-roots) and any added with [`HttpFetcher::with_root_certificate`].
/// - The host is resolved once; if any of its addresses is private, loopback,
///   link-local, unique-local, CGNAT, multicast, unspecified or reserved
///   ([`AddressClass`](crate::AddressClass), IPv4-mapped IPv6 included), the URL is
///   refused (unless [`HttpFetcher::allow_private_addresses`]). The connection goes to
///   an address so checked, never through a second lookup, so a DNS answer that changes
///   between check and connection (DNS rebinding) cannot reach inside.
/// - No proxy from the environment, no redirect followed (a `3xx` is an error naming
///   where it pointed).
/// - The whole fetch is bounded by a timeout ([`DEFAULT_FETCH_TIMEOUT`]) and the body by
///   a size ([`DEFAULT_MAX_METADATA_BYTES`]).
///
/// ```
/// use std::time::Duration;
/// use jit_provisioning_saml::HttpFetcher;
///
/// let fetcher = HttpFetcher::new().with_timeout(Duration::from_secs(5));
/// # let _ = fetcher;
/// ```
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    timeout: Duration,
    max_bytes: usize,
    allow_private_addresses: bool,
    allow_http: bool,
    extra_roots: Vec<CertificateDer<'static>>,
}

impl Default for HttpFetcher {
    fn default() -> Self {
        HttpFetcher::new()
    }
}

/// A URL taken apart.
struct Target<'a> {
    https: bool,
    host: &'a str,
    authority: &'a str,
    port: u16,
    /// The path and query, starting with `/`.
    path: String,
}

impl HttpFetcher {
    /// A fetcher with the defaults: https only, public addresses only, 10 s, 4 MiB.
    pub fn new() -> Self {
        HttpFetcher {
            timeout: DEFAULT_FETCH_TIMEOUT,
            max_bytes: DEFAULT_MAX_METADATA_BYTES,
            allow_private_addresses: false,
            allow_http: false,
            extra_roots: Vec::new(),
        }
    }

    /// The time a fetch may take, all included.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest body accepted, in bytes.
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Fetches from private, loopback and the other refused addresses too: for tests,
    /// and for a deployment whose IdPs are all inside its own network (ADFS on premises)
    /// and whose org settings only its own admins write.
    pub fn allow_private_addresses(mut self, allow: bool) -> Self {
        self.allow_private_addresses = allow;
        self
    }

    /// Fetches plain `http://` URLs too: for tests only.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Trusts a CA certificate (DER) besides the Mozilla roots: an IdP on premises whose
    /// server certificate a company CA issued.
    pub fn with_root_certificate(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(CertificateDer::from(der));
        self
    }

    fn target<'a>(&self, url: &'a str) -> Result<Target<'a>, FetchError> {
        let bad = |reason: &str| FetchError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (false, rest)
        } else {
            return Err(bad("it must start with https://"));
        };
        if !https && !self.allow_http {
            return Err(FetchError::NotHttps {
                url: url.to_owned(),
            });
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') {
            return Err(bad("a user name or password in the URL is not sent"));
        }
        if path.contains('#') || path.contains(char::is_whitespace) {
            return Err(bad("no fragment or white space"));
        }
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("no valid host"))?;
        let port = port.unwrap_or(if https { 443 } else { 80 });
        Ok(Target {
            https,
            host,
            authority,
            port,
            path,
        })
    }

    /// The addresses to connect to, every one checked.
    async fn addresses(
        &self,
        url: &str,
        target: &Target<'_>,
    ) -> Result<Vec<SocketAddr>, FetchError> {
        let literal = target
            .host
            .strip_prefix('[')
            .and_then(|host| host.strip_suffix(']'))
            .unwrap_or(target.host)
            .parse::<IpAddr>()
            .ok();
        let addresses: Vec<SocketAddr> = match literal {
            Some(ip) => vec![SocketAddr::new(ip, target.port)],
            None => tokio::net::lookup_host((target.host, target.port))
                .await
                .map_err(|error| failed(url, format!("cannot resolve `{}`: {error}", target.host)))?
                .collect(),
        };
        if addresses.is_empty() {
            return Err(failed(url, format!("`{}` has no address", target.host)));
        }
        if !self.allow_private_addresses {
            // One refused address refuses the host: a name that resolves both inside and
            // outside is someone's experiment.
            for address in &addresses {
                if let Some(class) = address_class(address.ip()) {
                    return Err(FetchError::RefusedAddress {
                        url: url.to_owned(),
                        address: address.ip(),
                        class,
                    });
                }
            }
        }
        Ok(addresses)
    }

    async fn fetch_checked(&self, url: &str) -> Result<FetchedMetadata, FetchError> {
        let target = self.target(url)?;
        let addresses = self.addresses(url, &target).await?;
        let mut last_error = None;
        let mut stream = None;
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(connected) => {
                    stream = Some(connected);
                    break;
                }
                Err(error) => last_error = Some(format!("cannot connect to {address}: {error}")),
            }
        }
        let Some(stream) = stream else {
            return Err(failed(url, last_error.unwrap_or_default()));
        };
        if !target.https {
            return self.exchange(url, &target, stream).await;
        }
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for root in &self.extra_roots {
            roots
                .add(root.clone())
                .map_err(|error| failed(url, format!("an added root certificate: {error}")))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|error| failed(url, format!("TLS: {error}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = ServerName::try_from(
            target
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        )
        .map_err(|error| failed(url, format!("TLS server name: {error}")))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, stream)
            .await
            .map_err(|error| failed(url, format!("TLS: {error}")))?;
        self.exchange(url, &target, tls).await
    }

    /// One GET over `stream`, its body read up to the size limit.
    async fn exchange<S>(
        &self,
        url: &str,
        target: &Target<'_>,
        stream: S,
    ) -> Result<FetchedMetadata, FetchError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| failed(url, error.to_string()))?;
        let request = hyper::Request::get(target.path.as_str())
            .header(header::HOST, target.authority)
            .header(
                header::ACCEPT,
                "application/samlmetadata+xml, application/xml;q=0.9, */*;q=0.1",
            )
            .header(header::USER_AGENT, "jit-provisioning-saml")
            .header(header::CONNECTION, "close")
            .body(Empty::<Bytes>::new())
            .map_err(|error| failed(url, error.to_string()))?;
        let limit = self.max_bytes;
        let work = async move {
            let response = sender
                .send_request(request)
                .await
                .map_err(|error| failed(url, error.to_string()))?;
            let status = response.status();
            if status != hyper::StatusCode::OK {
                return Err(FetchError::Status {
                    url: url.to_owned(),
                    status: status.as_u16(),
                    location: response
                        .headers()
                        .get(header::LOCATION)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned),
                });
            }
            let too_large = || FetchError::TooLarge {
                url: url.to_owned(),
                limit,
            };
            let announced = response
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok());
            if announced.is_some_and(|length| length > limit as u64) {
                return Err(too_large());
            }
            let body = Limited::new(response.into_body(), limit)
                .collect()
                .await
                .map_err(|error| {
                    if error.is::<http_body_util::LengthLimitError>() {
                        too_large()
                    } else {
                        failed(url, error.to_string())
                    }
                })?
                .to_bytes();
            String::from_utf8(body.to_vec())
                .map_err(|_| failed(url, "the body is not UTF-8 text".into()))
        };
        tokio::pin!(work);
        tokio::pin!(connection);
        let body = tokio::select! {
            biased;
            body = &mut work => body?,
            ended = &mut connection => match ended {
                // The connection is done; the body it delivered is read to its end.
                Ok(()) => work.await?,
                Err(error) => return Err(failed(url, error.to_string())),
            },
        };
        Ok(FetchedMetadata::new(
            body,
            DateTime::<Utc>::from(SystemTime::now()),
        ))
    }
}

#[async_trait]
impl MetadataFetcher for HttpFetcher {
    async fn fetch(&self, url: &str) -> Result<FetchedMetadata, FetchError> {
        match tokio::time::timeout(self.timeout, self.fetch_checked(url)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                url: url.to_owned(),
                after: self.timeout,
            }),
        }
    }
}

fn failed(url: &str, reason: String) -> FetchError {
    FetchError::Failed {
        url: url.to_owned(),
        reason,
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// `host` or `host:port` or `[v6]` or `[v6]:port`.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.is_empty() {
        return None;
    }
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.contains(':') => {
            Some((host, Some(port.parse().ok()?)))
        }
        Some(_) => None,
        None => Some((authority, None)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hosts_and_ports() {
        assert_eq!(split_host_port("idp.example"), Some(("idp.example", None)));
        assert_eq!(
            split_host_port("idp.example:8443"),
            Some(("idp.example", Some(8443)))
        );
        assert_eq!(split_host_port("[::1]"), Some(("[::1]", None)));
        assert_eq!(split_host_port("[::1]:80"), Some(("[::1]", Some(80))));
        assert_eq!(split_host_port(""), None);
        assert_eq!(split_host_port("idp.example:x"), None);
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("[::1]x"), None);
    }

    #[test]
    fn urls_taken_apart() {
        let fetcher = HttpFetcher::new();
        let target = fetcher
            .target("HTTPS://idp.example:8443/app/metadata?x=1")
            .unwrap();
        assert!(target.https);
        assert_eq!(target.host, "idp.example");
        assert_eq!(target.port, 8443);
        assert_eq!(target.path, "/app/metadata?x=1");
        assert_eq!(fetcher.target("https://idp.example").unwrap().path, "/");
        assert_eq!(
            fetcher.target("https://idp.example?id=7").unwrap().path,
            "/?id=7"
        );
        assert!(matches!(
            fetcher.target("https://user:pw@idp.example/"),
            Err(FetchError::BadUrl { .. })
        ));
        assert!(matches!(
            fetcher.target("ftp://idp.example/"),
            Err(FetchError::BadUrl { .. })
        ));
        assert!(matches!(
            fetcher.target("https:///metadata"),
            Err(FetchError::BadUrl { .. })
        ));
    }
}
