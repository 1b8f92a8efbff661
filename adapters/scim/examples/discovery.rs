//! Prints the discovery documents this crate publishes for an org, as one JSON object:
//! `cargo run -p jit-provisioning-scim --example discovery -- https://app.example/scim/v2/acme`.

use jit_provisioning_scim::Discovery;
use serde_json::json;

fn main() {
    let base_url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "https://app.example/scim/v2/acme".into());
    let discovery = Discovery::new(&base_url);
    let documents = json!({
        "ServiceProviderConfig": discovery.service_provider_config(),
        "Schemas": discovery.schemas().to_json(),
        "ResourceTypes": discovery.resource_types().to_json(),
    });
    println!("{documents:#}");
}
