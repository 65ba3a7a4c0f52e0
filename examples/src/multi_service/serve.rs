//! One service as a process: its command line, tracing set up from the service
//! YAML, and an HTTP server that drains on SIGTERM so the spans are flushed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use spanplug_config::TracingConfig;
use spanplug_http::server as http_server;

use super::calls::Services;
use super::handlers::{router, seed_users};
use super::Role;

/// Runs one service until SIGTERM or Ctrl-C, then flushes its spans.
pub fn serve(
    role: Role,
    port: u16,
    urls: BTreeMap<Role, String>,
    config: &Path,
) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tracing = TracingConfig::from_yaml_file(config)?.with_service_name(role.deployment());
    let guard = spanplug_sdk::init(tracing)?;
    for needed in role.downstream() {
        if !urls.contains_key(needed) {
            bail!("{} needs --upstream {}=<url>", role.name(), needed.name());
        }
    }
    let services = Services {
        role,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        urls: Arc::new(urls),
        users: Arc::new(Mutex::new(seed_users())),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| anyhow::anyhow!("binding {address}: {e}"))?;
        // Drains within a deadline on SIGTERM whatever clients do, and drops clients
        // that send headers or bodies too slowly.
        http_server::serve(
            listener,
            router(services),
            shutdown_signal(),
            http_server::ServeLimits::default(),
        )
        .await;
        anyhow::Ok(())
    })?;
    drop(runtime);
    // Lost spans must not fail the service: the error names each exporter's counts.
    if let Err(error) = guard.shutdown() {
        log::error!("{error}");
    }
    Ok(())
}

async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// One service's command line: `<role> --port N [--upstream role=url]... [--config FILE]`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Which service to run.
    #[arg(value_enum)]
    pub role: Role,
    /// The loopback port to listen on.
    #[arg(long)]
    pub port: u16,
    /// Where a service this one calls listens, as role=url (repeatable).
    #[arg(long = "upstream", value_name = "ROLE=URL", value_parser = parse_upstream)]
    pub upstreams: Vec<(Role, String)>,
    /// The service YAML with the tracing config.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_upstream(text: &str) -> Result<(Role, String), String> {
    let (name, url) = text
        .split_once('=')
        .ok_or_else(|| format!("expected role=url, got {text:?}"))?;
    let role = <Role as clap::ValueEnum>::from_str(name, false).map_err(|_| {
        format!(
            "unknown role {name:?}; roles: {}",
            Role::ALL.map(Role::name).join(", ")
        )
    })?;
    Ok((role, url.to_string()))
}

impl ServeArgs {
    /// Runs the service; the config is `--config`, else `default_config`.
    pub fn run(self, default_config: &Path) -> anyhow::Result<()> {
        let config = self.config.unwrap_or_else(|| default_config.to_path_buf());
        serve(
            self.role,
            self.port,
            self.upstreams.into_iter().collect(),
            &config,
        )
    }
}
