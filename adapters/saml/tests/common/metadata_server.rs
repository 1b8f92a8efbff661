//! A loopback HTTP server that serves an IdP's metadata, changes it on demand and
//! counts the requests; and metadata documents with chosen keys and lifetimes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use jit_provisioning_saml::test_idp::TestIdp;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200 OK` with this body.
    Metadata(String),
    /// This status, with a `Location` for redirects.
    Status(u16, Option<String>),
    /// Nothing, ever: the connection stays open and silent.
    Silence,
    /// These bytes as soon as the connection opens, before any request: what a plain
    /// HTTP server's error looks like to a TLS client.
    Greeting(String),
}

pub struct MetadataServer {
    pub url: String,
    reply: Arc<Mutex<Reply>>,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MetadataServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MetadataServer {
    pub async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/app/sso/saml/metadata",
            listener.local_addr().unwrap()
        );
        let reply = Arc::new(Mutex::new(reply));
        let hits = Arc::new(AtomicUsize::new(0));
        let (shared_reply, shared_hits) = (Arc::clone(&reply), Arc::clone(&hits));
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                shared_hits.fetch_add(1, Ordering::SeqCst);
                let reply = shared_reply.lock().unwrap().clone();
                tokio::spawn(async move {
                    if let Reply::Greeting(text) = &reply {
                        let _ = stream.write_all(text.as_bytes()).await;
                        let _ = stream.shutdown().await;
                        return;
                    }
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let response = match reply {
                        Reply::Metadata(body) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        Reply::Status(status, location) => format!(
                            "HTTP/1.1 {status} Whatever\r\n{}Content-Length: 0\r\nConnection: close\r\n\r\n",
                            location.map(|to| format!("Location: {to}\r\n")).unwrap_or_default()
                        ),
                        Reply::Silence | Reply::Greeting(_) => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        MetadataServer {
            url,
            reply,
            hits,
            task,
        }
    }

    pub fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An IdP's metadata listing a signing certificate for each of `keys`, with `attributes`
/// (such as `validUntil="…"`) on its EntityDescriptor.
pub fn metadata(entity_id: &str, keys: &[&TestIdp], attributes: &str) -> String {
    let descriptors: String = keys
        .iter()
        .map(|idp| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                base64::engine::general_purpose::STANDARD.encode(idp.certificate_der())
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}" {attributes}>
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {descriptors}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}
