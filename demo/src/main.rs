//! `cargo run -p jit-provisioning-demo [-- --config demo/config.toml]`: the SSO login
//! portal in a browser.

use std::path::PathBuf;
use std::sync::Arc;

use jit_provisioning_demo::{load_or_make_idp, open_portals, sqlite_app, DemoConfig};

#[tokio::main]
async fn main() -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let config = match (args.next().as_deref(), args.next()) {
        (Some("--config"), Some(path)) => DemoConfig::load(&PathBuf::from(path))?,
        (None, _) => {
            let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.toml");
            if beside.is_file() {
                DemoConfig::load(&beside)?
            } else {
                DemoConfig::shipped()?
            }
        }
        _ => return Err("usage: jit-provisioning-demo [--config FILE]".into()),
    };
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|error| format!("{}: {error}", config.data_dir.display()))?;
    let idp = Arc::new(load_or_make_idp(&config.data_dir)?);
    let database = config.data_dir.join("demo.db");
    let base_url = format!("http://{}", config.addr);
    let (router, provisioner) = sqlite_app(&config, idp, &database, &base_url).await?;
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", config.addr))?;
    let first_org = open_portals(&provisioner)
        .await?
        .into_iter()
        .next()
        .unwrap_or_else(|| "acme".into());
    println!("open {base_url}/{first_org}/login");
    println!(
        "(orgs, accounts, sessions and the SAML assertion ids seen in {0}; add or change orgs while this runs with `cargo run -p jit-provisioning-cli -- orgs import --database sqlite://{0} --allow-private-addresses FILE`)",
        database.display()
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|error| error.to_string())
}
