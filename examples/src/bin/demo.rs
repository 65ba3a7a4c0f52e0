//! The multi-service example end to end: starts the proxy and the four deployments
//! as separate processes on loopback ports, sends the sample requests of Ray Serve's
//! multi-service tracing example (and one continuing an incoming `traceparent`),
//! stops every process with SIGTERM so its spans are flushed, and prints each trace
//! tree from the spans directory.
//!
//! `demo` runs it all; `demo serve <role> --port N [--upstream role=url]... [--config F]`
//! runs one service (what `demo` starts for each process). The tracing config is
//! `--config`, else `SPANPLUG_SERVICE_CONFIG`, else `examples/multi-service/service.yaml`.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use serde_json::json;
use spanplug_examples::multi_service::{serve, Role};
use spanplug_host::{spans_file, stderr_log, tree};

const INCOMING_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const INCOMING_TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

/// `SPANPLUG_SERVICE_CONFIG`, else the example's own `service.yaml`.
fn default_config() -> PathBuf {
    std::env::var_os("SPANPLUG_SERVICE_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("multi-service/service.yaml"))
}

fn main() -> anyhow::Result<()> {
    stderr_log::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => run_demo(),
        Some("serve") => serve_from_args(&args[1..]),
        Some(other) => bail!("unknown command {other:?}; usage: demo | demo serve <role> --port N [--upstream role=url]... [--config FILE]"),
    }
}

fn serve_from_args(args: &[String]) -> anyhow::Result<()> {
    let role_names = Role::ALL.map(Role::name).join(", ");
    let role = args
        .first()
        .and_then(|name| Role::from_name(name))
        .with_context(|| format!("expected a role: {role_names}"))?;
    let mut port = None;
    let mut urls = BTreeMap::new();
    let mut config = default_config();
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" => port = Some(value.parse::<u16>().context("--port")?),
            "--config" => config = PathBuf::from(value),
            "--upstream" => {
                let (name, url) = value.split_once('=').context("--upstream takes role=url")?;
                let upstream = Role::from_name(name)
                    .with_context(|| format!("unknown role {name:?}; roles: {role_names}"))?;
                urls.insert(upstream, url.to_string());
            }
            other => bail!("unknown option {other}"),
        }
    }
    serve(role, port.context("--port is required")?, urls, &config)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Stops the processes when the demo ends, however it ends.
struct Processes(Vec<(Role, Child)>);

impl Processes {
    /// SIGTERM, so each service flushes its spans; then wait for it to exit.
    fn stop(&mut self) -> anyhow::Result<()> {
        for (_, child) in &self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        for (role, child) in &mut self.0 {
            loop {
                match child.try_wait()? {
                    Some(status) if status.success() => break,
                    Some(status) => bail!("{} exited with {status}", role.deployment()),
                    None if Instant::now() > deadline => {
                        let _ = child.kill();
                        bail!("{} did not stop within 15 s", role.deployment());
                    }
                    None => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        self.0.clear();
        Ok(())
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_until_listening(port: u16, role: Role) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!(
                "{} did not start listening on port {port}",
                role.deployment()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn run_demo() -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let exe_dir = exe.parent().context("executable folder")?.to_path_buf();
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
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

    let config = default_config();
    let ports: BTreeMap<Role, u16> = Role::ALL
        .into_iter()
        .map(|role| Ok((role, free_port()?)))
        .collect::<anyhow::Result<_>>()?;
    let url = |role: Role| format!("http://127.0.0.1:{}", ports[&role]);
    let mut processes = Processes(Vec::new());
    for role in Role::ALL {
        let mut command = Command::new(&exe);
        command
            .args(["serve", role.name(), "--port", &ports[&role].to_string()])
            .arg("--config")
            .arg(&config)
            .env("SPANPLUG_LOG_DIR", &log_dir)
            .env("SPANPLUG_PLUGIN_PATH", &plugin_path);
        for upstream in role.downstream() {
            command.args([
                "--upstream",
                &format!("{}={}", upstream.name(), url(*upstream)),
            ]);
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", role.deployment()))?;
        processes.0.push((role, child));
        wait_until_listening(ports[&role], role)?;
    }
    println!("started proxy, APIGateway, UserService, DatabaseService, NotificationService (5 processes)\n");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(send_sample_requests(&url(Role::Proxy)))?;
    processes.stop()?;

    let spans = spans_file::read_spans(&log_dir)
        .with_context(|| format!("reading {}", log_dir.display()))?;
    for problem in &spans.problems {
        eprintln!("warning: {problem}");
    }
    println!(
        "\n{} spans from {} processes in {}\n",
        spans.spans.len(),
        Role::ALL.len(),
        log_dir.join("spans").display()
    );
    print!("{}", tree::render_trees(&spans.spans));
    let continued = spans
        .spans
        .iter()
        .any(|s| s.trace_id == "0x4bf92f3577b34da6a3ce929d0e0e4736");
    if !continued {
        bail!("the request with an incoming traceparent did not continue its trace");
    }
    println!("open them as a picture: cargo run -p spanplug-host --bin spanplug -- view {} -o trace.html", log_dir.display());
    Ok(())
}

/// Method, path, JSON body and extra headers of one sample request.
struct Sample<'a> {
    method: &'a str,
    path: &'a str,
    body: Option<&'a serde_json::Value>,
    headers: &'a [(&'a str, &'a str)],
}

async fn send_sample_requests(proxy: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let register = json!({"name": "David", "email": "david@example.com"});
    let requests = [
        Sample {
            method: "GET",
            path: "/",
            body: None,
            headers: &[],
        },
        Sample {
            method: "GET",
            path: "/user/1",
            body: None,
            headers: &[],
        },
        Sample {
            method: "POST",
            path: "/register",
            body: Some(&register),
            headers: &[],
        },
        Sample {
            method: "GET",
            path: "/user/99",
            body: None,
            headers: &[],
        },
        Sample {
            method: "GET",
            path: "/health",
            body: None,
            headers: &[],
        },
        Sample {
            method: "GET",
            path: "/user/2",
            body: None,
            headers: &[
                ("traceparent", INCOMING_TRACEPARENT),
                ("tracestate", INCOMING_TRACESTATE),
            ],
        },
    ];
    for Sample {
        method,
        path,
        body,
        headers,
    } in requests
    {
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
    }
    Ok(())
}
