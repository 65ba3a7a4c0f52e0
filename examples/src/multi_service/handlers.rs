//! Each service's HTTP routes and handlers, behind spanplug's `TraceLayer`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opentelemetry::trace::{FutureExt as _, SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context};
use serde_json::{json, Value};
use spanplug_http::client::InjectTraceContext as _;
use spanplug_http::server::TraceLayer;

use super::calls::{app_span, now_seconds, JsonBody as _, Services, APP};
use super::Role;

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

pub(super) fn router(services: Services) -> Router {
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

pub(super) fn seed_users() -> BTreeMap<String, Value> {
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
