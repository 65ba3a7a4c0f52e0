//! A real OTLP/HTTP receiver on 127.0.0.1 for the tests: it decodes every request
//! with the official protobuf schema (`opentelemetry-proto`), protobuf or JSON, gzip
//! or not, records it, and answers as scripted.

use std::collections::VecDeque;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

mod metrics;
pub use metrics::{
    attribute_texts, histogram_points, last_points, last_sum, metrics_named, sum_of,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Ok,
    /// An error status, with `Retry-After` seconds and a body.
    Status {
        code: u16,
        retry_after: Option<u64>,
        body: String,
    },
    /// 200 with an OTLP partial-success response.
    PartialSuccess {
        rejected: i64,
        message: String,
    },
    /// Waits before answering 200.
    Delay(Duration),
    /// A redirect (`code` 301, 302, 307 or 308) to `location`.
    Redirect {
        code: u16,
        location: String,
    },
    /// 200 with a body of this many bytes that is not an OTLP response.
    Garbage {
        bytes: usize,
    },
    /// 200 with a valid start of a protobuf partial success whose `error_message`
    /// is `bytes` of `m` (built field by field, as a hostile backend might).
    LongMessage {
        bytes: usize,
    },
    /// 200 with this body and content type, as given (hand-made responses).
    Body {
        content_type: &'static str,
        body: Vec<u8>,
    },
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub request: ExportTraceServiceRequest,
    /// The status the receiver answered with.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn spans(&self) -> impl Iterator<Item = &Span> {
        self.request
            .resource_spans
            .iter()
            .flat_map(|rs| rs.scope_spans.iter())
            .flat_map(|ss| ss.spans.iter())
    }
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    arrived: Condvar,
    /// Requests that reached the handler, answered or not yet.
    started: Mutex<usize>,
    /// `/v1/metrics` requests, decoded.
    metrics: Mutex<Vec<ExportMetricsServiceRequest>>,
    /// Each `/v1/metrics` request's headers (names lowercase), in arrival order.
    metrics_headers: Mutex<Vec<Vec<(String, String)>>>,
}

#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A backend that is down in the way a crashed one is: it accepts each connection
/// and closes it without answering, counting the attempts, so tests can wait for the
/// exporter to have tried rather than sleep.
#[derive(Debug)]
pub struct ResettingListener {
    port: u16,
    attempts: Arc<(Mutex<usize>, Condvar)>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ResettingListener {
    /// On `port` (0: any free one).
    pub fn start_on(port: u16) -> ResettingListener {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind loopback");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let attempts = Arc::new((Mutex::new(0), Condvar::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (attempts, stop) = (Arc::clone(&attempts), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
                            let _ = stream.read(&mut [0u8; 64]);
                            drop(stream);
                            *attempts.0.lock().unwrap() += 1;
                            attempts.1.notify_all();
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        ResettingListener {
            port,
            attempts,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn attempts(&self) -> usize {
        *self.attempts.0.lock().unwrap()
    }

    /// Waits until `count` connections were made; false if `timeout` passed first.
    pub fn wait_for_attempts(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut attempts = self.attempts.0.lock().unwrap();
        while *attempts < count {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            attempts = self
                .attempts
                .1
                .wait_timeout(attempts, deadline - now)
                .unwrap()
                .0;
        }
        true
    }

    /// Stops listening and frees the port.
    pub fn stop(mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.attempts()
    }
}

/// The value of the attribute `key` among decoded `attributes`.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

/// A loopback port nothing listens on (for "backend down").
pub fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Receiver {
    pub fn start() -> Receiver {
        Receiver::start_on(0)
    }

    pub fn start_on(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind loopback");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Receiver {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The `/v1/metrics` requests received so far, decoded.
    pub fn metrics(&self) -> Vec<ExportMetricsServiceRequest> {
        self.shared.metrics.lock().unwrap().clone()
    }

    /// The headers of each `/v1/metrics` request received so far.
    pub fn metrics_headers(&self) -> Vec<Vec<(String, String)>> {
        self.shared.metrics_headers.lock().unwrap().clone()
    }

    /// The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replies for the next requests, in order; after them, 200.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Spans of the requests answered with 2xx.
    pub fn delivered_spans(&self) -> Vec<Span> {
        self.requests()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .flat_map(|r| r.spans().cloned().collect::<Vec<_>>())
            .collect()
    }

    /// Waits until `count` spans were delivered or `timeout` passed.
    pub fn wait_for_spans(&self, count: usize, timeout: Duration) -> Vec<Span> {
        self.wait_for_span_count(count, timeout);
        self.delivered_spans()
    }

    /// Waits until `count` spans were delivered or `timeout` passed; returns how many
    /// were, copying none (for timing a delivery).
    pub fn wait_for_span_count(&self, count: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut received = self.shared.received.lock().unwrap();
        loop {
            let delivered: usize = received
                .iter()
                .filter(|r| (200..300).contains(&r.status))
                .map(|r| r.spans().count())
                .sum();
            let now = Instant::now();
            if delivered >= count || now >= deadline {
                return delivered;
            }
            received = self
                .shared
                .arrived
                .wait_timeout(received, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Waits until `count` requests reached the receiver (answered or still being
    /// answered, e.g. delayed); false if `timeout` passed first.
    pub fn wait_for_arrivals(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while *self.shared.started.lock().unwrap() < count {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The body, gunzipped when its content encoding says gzip.
fn plain_body(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, String> {
    if headers.get("content-encoding").map(|v| v.as_bytes()) != Some(b"gzip") {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .map_err(|e| format!("bad gzip: {e}"))?;
    Ok(out)
}

fn decode(headers: &HeaderMap, body: &[u8]) -> Result<(ExportTraceServiceRequest, bool), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let plain = plain_body(headers, body)?;
    match header("content-type") {
        "application/x-protobuf" => ExportTraceServiceRequest::decode(plain.as_slice())
            .map(|r| (r, false))
            .map_err(|e| format!("bad protobuf: {e}")),
        "application/json" => serde_json::from_slice(&plain)
            .map(|r| (r, true))
            .map_err(|e| format!("bad json: {e}")),
        other => Err(format!("unexpected content type {other:?}")),
    }
}

/// A protobuf varint.
fn varint(mut value: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    while value >= 0x80 {
        bytes.push(value as u8 | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
    bytes
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path() == "/v1/metrics" {
        return metrics::receive(&shared, &headers, &body);
    }
    let (request, json) = match decode(&headers, &body) {
        Ok(decoded) => decoded,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    *shared.started.lock().unwrap() += 1;
    let reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Ok);
    if let Reply::Delay(delay) = reply {
        tokio::time::sleep(delay).await;
    }
    let (status, response) = match &reply {
        Reply::Ok | Reply::Delay(_) => (200, ok_response(None, json)),
        Reply::Garbage { bytes } => (
            200,
            (
                [("content-type", "application/x-protobuf")],
                vec![0xffu8; *bytes],
            )
                .into_response(),
        ),
        Reply::LongMessage { bytes } => {
            let mut message = vec![0x12];
            message.extend(varint(*bytes));
            let mut body = vec![0x0a];
            body.extend(varint(message.len() + bytes));
            body.extend(message);
            body.resize(body.len() + bytes, b'm');
            (
                200,
                ([("content-type", "application/x-protobuf")], body).into_response(),
            )
        }
        Reply::Body { content_type, body } => (
            200,
            ([("content-type", *content_type)], body.clone()).into_response(),
        ),
        Reply::PartialSuccess { rejected, message } => (
            200,
            ok_response(
                Some(ExportTracePartialSuccess {
                    rejected_spans: *rejected,
                    error_message: message.clone(),
                }),
                json,
            ),
        ),
        Reply::Redirect { code, location } => (
            *code,
            (
                StatusCode::from_u16(*code).unwrap(),
                [("location", location.as_str())],
            )
                .into_response(),
        ),
        Reply::Status {
            code,
            retry_after,
            body,
        } => {
            let mut response = (StatusCode::from_u16(*code).unwrap(), body.clone()).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", seconds.to_string().parse().unwrap());
            }
            (*code, response)
        }
    };
    let received = Received {
        method: method.to_string(),
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        request,
        status,
    };
    shared.received.lock().unwrap().push(received);
    shared.arrived.notify_all();
    response
}

fn ok_response(partial_success: Option<ExportTracePartialSuccess>, json: bool) -> Response {
    let message = ExportTraceServiceResponse { partial_success };
    if json {
        (
            [("content-type", "application/json")],
            serde_json::to_vec(&message).unwrap(),
        )
            .into_response()
    } else {
        (
            [("content-type", "application/x-protobuf")],
            message.encode_to_vec(),
        )
            .into_response()
    }
}
