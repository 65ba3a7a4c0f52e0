//! The services of the multi-service example, each run as its own process: a proxy
//! (HTTP ingress) and the deployments APIGateway, UserService, DatabaseService and
//! NotificationService, calling each other over loopback HTTP with the trace
//! context propagated. Span names follow Ray Serve's (`proxy_http_request`,
//! `proxy_route_to_replica`, `replica_handle_request`) plus one application span per
//! handler, so the trees match Ray's multi-service tracing example.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opentelemetry::trace::{FutureExt as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use serde_json::{json, Value};
use spanplug_config::TracingConfig;
use spanplug_http::client::InjectTraceContext as _;
use spanplug_http::server::{self as http_server, TraceLayer};

/// The processes of the example, in start order (downstream first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Role {
    Notification,
    Database,
    User,
    Gateway,
    Proxy,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Notification,
        Role::Database,
        Role::User,
        Role::Gateway,
        Role::Proxy,
    ];

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Notification => "notification",
            Role::Database => "database",
            Role::User => "user",
            Role::Gateway => "gateway",
            Role::Proxy => "proxy",
        }
    }

    /// The Ray Serve deployment name, also the service name.
    pub fn deployment(self) -> &'static str {
        match self {
            Role::Notification => "NotificationService",
            Role::Database => "DatabaseService",
            Role::User => "UserService",
            Role::Gateway => "APIGateway",
            Role::Proxy => "proxy",
        }
    }

    /// The roles this one calls.
    pub fn downstream(self) -> &'static [Role] {
        match self {
            Role::Proxy => &[Role::Gateway],
            Role::Gateway => &[Role::User],
            Role::User => &[Role::Database, Role::Notification],
            Role::Database | Role::Notification => &[],
        }
    }
}

/// What every handler needs: where the other services are, and an HTTP client.
#[derive(Clone)]
struct Services {
    role: Role,
    client: reqwest::Client,
    urls: Arc<BTreeMap<Role, String>>,
    users: Arc<Mutex<BTreeMap<String, Value>>>,
}

const APP: &str = "default";

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Services {
    /// Calls another deployment the way Ray Serve routes to a replica: a CLIENT span
    /// `proxy_route_to_replica`, with the context injected into the request.
    async fn call(
        &self,
        callee: Role,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let tracer = global::tracer("multi-service");
        let span = tracer
            .span_builder("proxy_route_to_replica")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("deployment", callee.deployment()),
                KeyValue::new("app", APP),
                KeyValue::new("route", path.to_string()),
                KeyValue::new("http.request.method", method.to_string()),
            ])
            .start(&tracer);
        let cx = Context::current_with_span(span);
        let url = format!("{}{path}", self.urls[&callee]);
        let result = async {
            let mut request = self.client.request(method, &url).with_trace_context();
            if let Some(body) = &body {
                request = request.json_body(body);
            }
            let response = request.send().await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ))
        }
        .with_context(cx.clone())
        .await;
        let span = cx.span();
        match result {
            Ok((status, value)) => {
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status.as_u16()),
                ));
                if status.is_server_error() {
                    span.set_status(Status::error(format!(
                        "{} answered {status}",
                        callee.deployment()
                    )));
                }
                (status, value)
            }
            Err(error) => {
                span.set_status(Status::error(format!(
                    "calling {}: {error}",
                    callee.deployment()
                )));
                (
                    StatusCode::BAD_GATEWAY,
                    json!({"success": false, "error": "upstream unavailable"}),
                )
            }
        }
    }
}

/// `RequestBuilder::json` needs reqwest's `json` feature; this is all it does.
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

/// Runs `work` inside an application span named `<Deployment>.<handler>`; a status
/// of 400 or more marks the span as an error.
async fn app_span<F>(role: Role, handler: &str, work: F) -> (StatusCode, Value)
where
    F: std::future::Future<Output = (StatusCode, Value)>,
{
    let tracer = global::tracer("multi-service");
    let span = tracer.start(format!("{}.{handler}", role.deployment()));
    let cx = Context::current_with_span(span);
    let (status, value) = work.with_context(cx.clone()).await;
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status.as_u16()),
    ));
    if status.is_client_error() || status.is_server_error() {
        let message = value["error"]
            .as_str()
            .unwrap_or("request failed")
            .to_string();
        span.set_status(Status::error(message));
    }
    (status, value)
}

fn reply((status, value): (StatusCode, Value)) -> Response {
    (status, Json(value)).into_response()
}

async fn gateway_index() -> Json<Value> {
    Json(json!({
        "service": "Multi-service tracing example (spanplug)",
        "endpoints": {
            "GET /": "Service information and available endpoints",
            "GET /user/{user_id}": "Retrieve a user profile",
            "POST /register": "Register a new user",
            "GET /health": "Health check",
        },
    }))
}

async fn health(State(services): State<Services>) -> Json<Value> {
    Json(json!({"status": "healthy", "deployment": services.role.deployment()}))
}

async fn gateway_user(State(services): State<Services>, UrlPath(id): UrlPath<String>) -> Response {
    reply(
        app_span(Role::Gateway, "get_user_profile", async {
            services
                .call(Role::User, Method::GET, &format!("/user/{id}"), None)
                .await
        })
        .await,
    )
}

async fn gateway_register(State(services): State<Services>, Json(body): Json<Value>) -> Response {
    reply(
        app_span(Role::Gateway, "register_user", async {
            services
                .call(Role::User, Method::POST, "/register", Some(body))
                .await
        })
        .await,
    )
}

async fn user_profile(State(services): State<Services>, UrlPath(id): UrlPath<String>) -> Response {
    reply(
        app_span(Role::User, "get_user_profile", async {
            let (status, found) = services.call(Role::Database, Method::GET, &format!("/user/{id}"), None).await;
            if !status.is_success() {
                return (status, found);
            }
            let profile = json!({
                "last_login": "2024-08-29T10:00:00Z",
                "preferences": {"theme": "dark", "notifications": true},
            });
            (
                StatusCode::OK,
                json!({"success": true, "data": {"user": found["user"], "profile_data": profile, "timestamp": now_seconds()}}),
            )
        })
        .await,
    )
}

async fn user_register(State(services): State<Services>, Json(body): Json<Value>) -> Response {
    reply(
        app_span(Role::User, "register_user", async {
            let (status, created) = services
                .call(Role::Database, Method::POST, "/users", Some(body))
                .await;
            if !status.is_success() {
                return (status, created);
            }
            let user = created["user"].clone();
            let (status, notification) = services
                .call(
                    Role::Notification,
                    Method::POST,
                    "/notify",
                    Some(user.clone()),
                )
                .await;
            if !status.is_success() {
                return (status, notification);
            }
            (
                StatusCode::OK,
                json!({"success": true, "data": {
                    "user": user,
                    "notification": notification["notification"],
                    "registration_complete": true,
                    "timestamp": now_seconds(),
                }}),
            )
        })
        .await,
    )
}

async fn database_get(State(services): State<Services>, UrlPath(id): UrlPath<String>) -> Response {
    reply(
        app_span(Role::Database, "get_user", async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            match services.users.lock().unwrap().get(&id) {
                Some(user) => (StatusCode::OK, json!({"user": user})),
                None => (
                    StatusCode::NOT_FOUND,
                    json!({"success": false, "error": format!("User {id} not found")}),
                ),
            }
        })
        .await,
    )
}

async fn database_create(State(services): State<Services>, Json(body): Json<Value>) -> Response {
    reply(
        app_span(Role::Database, "create_user", async {
            let (Some(name), Some(email)) = (body["name"].as_str(), body["email"].as_str()) else {
                return (
                    StatusCode::BAD_REQUEST,
                    json!({"success": false, "error": "name and email are required"}),
                );
            };
            // A database write takes a while.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut users = services.users.lock().unwrap();
            let id = (users.len() + 1).to_string();
            let user = json!({"id": id, "name": name, "email": email});
            users.insert(id, user.clone());
            (StatusCode::OK, json!({"user": user}))
        })
        .await,
    )
}

async fn notify(Json(user): Json<Value>) -> Response {
    reply(
        app_span(Role::Notification, "send_welcome_email", async {
            tokio::time::sleep(Duration::from_millis(15)).await;
            let name = user["name"].as_str().unwrap_or("there");
            (
                StatusCode::OK,
                json!({"notification": {
                    "status": "sent",
                    "message": format!("Welcome {name}! Thanks for joining our service."),
                    "recipient": user["email"],
                }}),
            )
        })
        .await,
    )
}

/// The proxy forwards every request to the APIGateway, as Ray Serve's HTTP proxy does.
async fn proxy_forward(
    State(services): State<Services>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let body = serde_json::from_slice::<Value>(&body).ok();
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    reply(services.call(Role::Gateway, method, path, body).await)
}

/// The endpoint the W3C trace-context test harness drives: for each
/// `{url, arguments}` element, POST `arguments` to `url` with the trace context of a
/// new client span.
async fn w3c_test(State(services): State<Services>, Json(actions): Json<Vec<Value>>) -> StatusCode {
    let tracer = global::tracer("multi-service");
    for action in actions {
        let Some(url) = action["url"].as_str() else {
            continue;
        };
        let span = tracer
            .span_builder("w3c_callback")
            .with_kind(SpanKind::Client)
            .start(&tracer);
        let cx = Context::current_with_span(span);
        let arguments = action
            .get("arguments")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        let _ = async {
            services
                .client
                .post(url)
                .with_trace_context()
                .json_body(&arguments)
                .send()
                .await
        }
        .with_context(cx)
        .await;
    }
    StatusCode::OK
}

fn router(services: Services) -> Router {
    let role = services.role;
    let routes = match role {
        Role::Proxy => Router::new()
            .route("/", get(proxy_forward))
            .route("/health", get(proxy_forward))
            .route("/user/{id}", get(proxy_forward))
            .route("/register", post(proxy_forward)),
        Role::Gateway => Router::new()
            .route("/", get(gateway_index))
            .route("/health", get(health))
            .route("/user/{id}", get(gateway_user))
            .route("/register", post(gateway_register))
            .route("/test", post(w3c_test)),
        Role::User => Router::new()
            .route("/health", get(health))
            .route("/user/{id}", get(user_profile))
            .route("/register", post(user_register)),
        Role::Database => Router::new()
            .route("/health", get(health))
            .route("/user/{id}", get(database_get))
            .route("/users", post(database_create)),
        Role::Notification => Router::new()
            .route("/health", get(health))
            .route("/notify", post(notify)),
    };
    let layer = match role {
        Role::Proxy => TraceLayer::new()
            .span_name("proxy_http_request")
            .with_context("app", APP),
        _ => TraceLayer::new()
            .span_name("replica_handle_request")
            .with_context("app", APP)
            .with_context("deployment", role.deployment())
            .with_context(
                "replica_id",
                format!("{}#{}", role.deployment(), std::process::id()),
            ),
    };
    routes.route_layer(layer).with_state(services)
}

fn seed_users() -> BTreeMap<String, Value> {
    [
        ("1", "Alice", "alice@example.com"),
        ("2", "Bob", "bob@example.com"),
        ("3", "Charlie", "charlie@example.com"),
    ]
    .into_iter()
    .map(|(id, name, email)| {
        (
            id.to_string(),
            json!({"id": id, "name": name, "email": email}),
        )
    })
    .collect()
}

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

/// The five processes of the example on free loopback ports, each `exe serve ...`
/// (an executable that runs [`ServeArgs`] for `serve`). [`Deployment::stop`]
/// stops them with SIGTERM so they flush; dropping the deployment first kills them.
///
/// Each process's stderr is relayed with its name in front, and the lines in which
/// its exporters report at shutdown how many spans they delivered where are kept
/// for [`Deployment::delivery_reports`].
pub struct Deployment {
    processes: Vec<(Role, Child)>,
    ports: BTreeMap<Role, u16>,
    relays: Vec<std::thread::JoinHandle<()>>,
    reports: Arc<Mutex<Vec<(Role, String)>>>,
}

/// What exporters log at shutdown: delivered counts (otlp_http's info line) or the
/// guard's error naming what was lost.
fn is_delivery_report(line: &str) -> bool {
    line.contains(": shut down; ") || line.contains("flush/shutdown incomplete")
}

/// Relays a child's stderr line by line, keeping its delivery reports.
fn relay_stderr(
    role: Role,
    stderr: std::process::ChildStderr,
    reports: Arc<Mutex<Vec<(Role, String)>>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    use std::io::BufRead as _;
    std::thread::Builder::new()
        .name(format!("relay-{}", role.name()))
        .spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("[{}] {line}", role.deployment());
                if is_delivery_report(&line) {
                    let report = line.strip_prefix("spanplug ").unwrap_or(&line);
                    reports
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((role, report.to_string()));
                }
            }
        })
}

impl Deployment {
    /// Starts every role, downstream first, each once the one it calls listens.
    pub fn start(exe: &Path, config: &Path, env: &[(&str, &OsStr)]) -> anyhow::Result<Deployment> {
        let ports = Role::ALL
            .into_iter()
            .map(|role| Ok((role, TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())))
            .collect::<anyhow::Result<_>>()?;
        let mut deployment = Deployment {
            processes: Vec::new(),
            ports,
            relays: Vec::new(),
            reports: Arc::default(),
        };
        for role in Role::ALL {
            let port = deployment.ports[&role];
            let mut command = Command::new(exe);
            command
                .args(["serve", role.name(), "--port", &port.to_string()])
                .arg("--config")
                .arg(config)
                .envs(env.iter().copied())
                .stderr(std::process::Stdio::piped());
            for upstream in role.downstream() {
                command.args([
                    "--upstream",
                    &format!("{}={}", upstream.name(), deployment.url(*upstream)),
                ]);
            }
            let mut child = command
                .spawn()
                .map_err(|e| anyhow!("starting {}: {e}", role.deployment()))?;
            if let Some(stderr) = child.stderr.take() {
                let relay = relay_stderr(role, stderr, Arc::clone(&deployment.reports))?;
                deployment.relays.push(relay);
            }
            deployment.processes.push((role, child));
            let (_, child) = deployment.processes.last_mut().expect("just pushed");
            if let Err(error) = wait_until_listening(port, role, child) {
                // Its error must be printed before ours: stop it, then let its relay
                // reach the end of the pipe.
                let _ = child.kill();
                let _ = child.wait();
                if let Some(relay) = deployment.relays.pop() {
                    let _ = relay.join();
                }
                return Err(error);
            }
        }
        Ok(deployment)
    }

    /// After [`Deployment::stop`]: each process's exporter reports, in stop order.
    pub fn delivery_reports(&self) -> Vec<(Role, String)> {
        self.reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn url(&self, role: Role) -> String {
        format!("http://127.0.0.1:{}", self.ports[&role])
    }

    /// SIGTERM, so each service flushes its spans; then wait for it to exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        for (_, child) in &self.processes {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        for (role, child) in &mut self.processes {
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
        self.processes.clear();
        // Every child has exited, so each relay reaches the end of its pipe.
        for relay in self.relays.drain(..) {
            let _ = relay.join();
        }
        Ok(())
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for (_, child) in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_until_listening(port: u16, role: Role, child: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!(
                "{} exited ({status}) before it listened; its error is above",
                role.deployment()
            );
        }
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
