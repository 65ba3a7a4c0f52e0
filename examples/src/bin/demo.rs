//! The multi-service example end to end: calls every entry's factory in dry-run (a
//! config or factory error stops it before any process starts), starts the proxy and
//! the four deployments as separate processes on loopback ports, sends the sample requests of Ray Serve's
//! multi-service tracing example (and one continuing an incoming `traceparent`),
//! stops every process with SIGTERM so its spans are flushed, and shows where the
//! spans went: each trace tree when they went to span files (the shared `log_dir` or
//! an entry's own, this run's files only), else each process's
//! delivery counts per exporter (a backend that was down shows as spans not
//! delivered, which is not a failure of the demo).
//!
//! `demo [--config FILE]` runs it all with any service YAML (the environment
//! overrides still apply); `demo serve <role> --port N [--upstream role=url]...
//! [--config FILE]` runs one service (what `demo` starts for each process). The
//! tracing config is `--config`, else `SPANPLUG_SERVICE_CONFIG`, else
//! `examples/multi-service/service.yaml`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use serde_json::json;
use spanplug_cli::{spans_file, tree};
use spanplug_config::TracingConfig;
use spanplug_examples::multi_service::{
    check_factories, log_dirs, span_files_since, Deployment, Role, ServeArgs,
};
use spanplug_loader::stderr_log;

const INCOMING_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const INCOMING_TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

#[derive(Parser)]
#[command(
    name = "demo",
    about = "Runs Ray Serve's multi-service tracing example as five traced processes and shows where the spans went"
)]
struct Cli {
    /// The service YAML every process loads (default: SPANPLUG_SERVICE_CONFIG, else
    /// examples/multi-service/service.yaml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one service of the example (what `demo` starts for each process).
    Serve(ServeArgs),
}

/// `SPANPLUG_SERVICE_CONFIG`, else the example's own `service.yaml`.
fn default_config() -> PathBuf {
    std::env::var_os("SPANPLUG_SERVICE_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("multi-service/service.yaml"))
}

fn main() -> ExitCode {
    stderr_log::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Serve(args)) => args.run(&default_config()),
        None => run_demo(&cli.config.unwrap_or_else(default_config)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_demo(config_path: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let exe_dir = exe.parent().context("executable folder")?.to_path_buf();
    let started = SystemTime::now();
    let stamp = started.duration_since(UNIX_EPOCH)?.as_millis();
    let log_dir = match std::env::var_os("SPANPLUG_LOG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir()
            .join("spanplug-demo")
            .join(format!("{stamp}-{}", std::process::id())),
    };
    // `cargo run` leaves the plugins it built as dependencies in target/<profile>/deps.
    let plugin_path = std::env::var("SPANPLUG_PLUGIN_PATH").unwrap_or_else(|_| {
        std::env::join_paths([exe_dir.join("deps"), exe_dir.clone()])
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    // The processes' environment, so that the checks below see what they will see
    // (set while this process has one thread).
    std::env::set_var("SPANPLUG_LOG_DIR", &log_dir);
    std::env::set_var("SPANPLUG_PLUGIN_PATH", &plugin_path);
    // The services would each fail the same way: say it once, before starting any.
    let config = TracingConfig::from_yaml_file(config_path)?.with_env_overrides()?;
    check_factories(&config)?;

    let mut deployment = Deployment::start(
        &exe,
        config_path,
        &[
            ("SPANPLUG_LOG_DIR", log_dir.as_os_str()),
            ("SPANPLUG_PLUGIN_PATH", OsStr::new(&plugin_path)),
        ],
    )?;
    println!("started proxy, APIGateway, UserService, DatabaseService, NotificationService (5 processes) with {}\n", config_path.display());

    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(send_sample_requests(&deployment.url(Role::Proxy)))?;
    deployment.stop()?;

    let reports = deployment.delivery_reports();
    if !reports.is_empty() {
        println!("\nWhere the spans went (each process's exporters at shutdown):");
        for (role, report) in &reports {
            println!("  {:<20} {report}", role.deployment());
        }
    }
    let dirs = log_dirs(&config, &log_dir);
    let files = span_files_since(&dirs, started);
    if files.is_empty() {
        if reports.is_empty() {
            println!("\nNo exporter reported: the config installs none that writes span files or reports deliveries.");
        }
        return Ok(());
    }
    print_trees(&files)
}

/// The trace trees in this run's span `files`, and the continued trace's check.
fn print_trees(files: &[PathBuf]) -> anyhow::Result<()> {
    let spans = spans_file::read_all(files, &spans_file::Limits::default())
        .context("reading this run's span files")?;
    for problem in &spans.problems {
        eprintln!("warning: {problem}");
    }
    let mut folders: Vec<&Path> = files.iter().filter_map(|f| f.parent()).collect();
    folders.dedup();
    let folders: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
    println!(
        "\n{} spans from {} processes in {}\n",
        spans.spans.len(),
        Role::ALL.len(),
        folders.join(", ")
    );
    print!("{}", tree::render_trees(&spans.spans));
    let continued = spans
        .spans
        .iter()
        .any(|s| s.trace_id == "0x4bf92f3577b34da6a3ce929d0e0e4736");
    if !continued {
        bail!("the request with an incoming traceparent did not continue its trace");
    }
    let view: Vec<&str> = folders.iter().map(String::as_str).collect();
    println!(
        "open them as a picture: cargo run -p spanplug-cli --bin spanplug -- view {} -o trace.html",
        view.join(" ")
    );
    Ok(())
}

/// Method, path, JSON body and extra headers of one sample request.
struct Sample<'a> {
    method: &'a str,
    path: &'a str,
    body: Option<&'a serde_json::Value>,
    headers: &'a [(&'a str, &'a str)],
}

impl<'a> Sample<'a> {
    fn get(path: &'a str) -> Sample<'a> {
        Sample {
            method: "GET",
            path,
            body: None,
            headers: &[],
        }
    }
}

/// Ray's sample requests, then one continuing an incoming trace; each answer printed.
async fn send_sample_requests(proxy: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let register = json!({"name": "David", "email": "david@example.com"});
    let requests = [
        Sample::get("/"),
        Sample::get("/user/1"),
        Sample {
            method: "POST",
            path: "/register",
            body: Some(&register),
            headers: &[],
        },
        Sample::get("/user/99"),
        Sample::get("/health"),
        Sample {
            headers: &[
                ("traceparent", INCOMING_TRACEPARENT),
                ("tracestate", INCOMING_TRACESTATE),
            ],
            ..Sample::get("/user/2")
        },
    ];
    for sample in requests {
        send_sample(&client, proxy, sample).await?;
    }
    Ok(())
}

async fn send_sample(
    client: &reqwest::Client,
    proxy: &str,
    sample: Sample<'_>,
) -> anyhow::Result<()> {
    let Sample {
        method,
        path,
        body,
        headers,
    } = sample;
    let mut request = client.request(method.parse()?, format!("{proxy}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {path}"))?;
    let status = response.status();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let text = response.text().await?;
    let with_headers = if headers.is_empty() {
        String::new()
    } else {
        " (with incoming traceparent/tracestate)".into()
    };
    println!("{method} {path}{with_headers} -> {status} [x-request-id {request_id}]\n  {text}");
    Ok(())
}
