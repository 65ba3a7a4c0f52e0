//! [`serve`]: axum over hyper with the limits `axum::serve` lacks: bounded clients,
//! a bounded number of them, a bounded shutdown, and a calm accept loop when the
//! process runs out of descriptors.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

use super::accepting::{is_connection_error, AcceptFailures};
use super::write_deadline::WriteDeadline;

/// The default connection cap: half the descriptors the process may open, at most this.
const MAX_DEFAULT_CONNECTIONS: usize = 1024;

/// Limits for [`serve`]: how long a client may take, how many are served at once, and
/// how long shutdown waits.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServeLimits {
    /// A client must send a request's headers within this, and an idle keep-alive
    /// connection is closed after it (default 10 s).
    pub header_read_timeout: Duration,
    /// A request (reading its body included) must be answered within this, or it gets
    /// `408 Request Timeout` (default 30 s).
    pub request_timeout: Duration,
    /// A response write that the client takes nothing of for this long (it stopped
    /// reading) closes the connection (default 10 s).
    pub write_timeout: Duration,
    /// Connections served at once; more clients wait in the listen backlog, holding
    /// none of the process's descriptors, until one closes (default: half the
    /// soft `RLIMIT_NOFILE` when `ServeLimits` is made, at most 1024).
    pub max_connections: usize,
    /// After the shutdown signal, open requests get this long to finish before their
    /// connections are closed (default 5 s).
    pub drain_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// Half the soft descriptor limit (the rest is for files, outgoing connections and
/// the listener), at most [`MAX_DEFAULT_CONNECTIONS`].
fn default_max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the struct it is given, which lives
    // for the call.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        usize::MAX
    };
    (soft / 2).clamp(1, MAX_DEFAULT_CONNECTIONS)
}

impl ServeLimits {
    /// How long a client may take to send its request headers.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long one request may take before it is answered with 408.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a response write may wait for a client that takes nothing.
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How many connections are served at once (at least 1).
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long shutdown waits for requests in flight before closing them.
    pub fn with_drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains: no new
/// connections, idle ones closed, open requests given `drain_timeout`, and whatever is
/// left closed, so SIGTERM ends the process on time whatever clients do. Clients
/// slower than the limits (half-sent headers, a trickled body, responses never read)
/// are dropped; past `max_connections`, clients wait to be accepted. A connection
/// that fails before it is accepted (reset by its client, say) is passed over at once;
/// when accepting itself fails (out of descriptors), it retries with a growing wait
/// (100 ms up to 1 s), logging the first failure and, once accepting has worked for
/// 5 s (or at shutdown), how many there were.
/// `axum::serve` has none of these limits.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()>,
    limits: ServeLimits,
) {
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut failures = AcceptFailures::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let (stream, slot) = match accepted {
            Ok(accepted) => {
                failures.accepted();
                accepted
            }
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                let open = limits.max_connections.max(1) - slots.available_permits();
                let wait = failures.failed(&error, open);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(wait) => continue,
                }
            }
        };
        let connection = connection(stream, router.clone(), limits.clone(), closed.clone());
        connections.spawn(async move {
            connection.await;
            drop(slot);
        });
        // Finished connections are reaped as we go.
        while connections.try_join_next().is_some() {}
    }
    failures.end();
    let _ = closing.send(true);
    let drained = tokio::time::timeout(limits.drain_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        log::warn!(
            "closing {} connections still open {:?} after shutdown began",
            connections.len(),
            limits.drain_timeout
        );
        connections.abort_all();
    }
}

/// A connection slot, then a client. At the cap, clients wait in the listen backlog.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> io::Result<(TcpStream, OwnedSemaphorePermit)> {
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .map_err(io::Error::other)?;
    let (stream, _) = listener.accept().await?;
    Ok((stream, slot))
}

/// One client's connection, under the limits, until it ends or shutdown closes it.
async fn connection(
    stream: TcpStream,
    router: axum::Router,
    limits: ServeLimits,
    mut closed: tokio::sync::watch::Receiver<bool>,
) {
    let timeout = limits.request_timeout;
    let service = hyper::service::service_fn(move |request| {
        let mut router = router.clone();
        async move {
            let call = async {
                std::future::poll_fn(|cx| {
                    Service::<Request<hyper::body::Incoming>>::poll_ready(&mut router, cx)
                })
                .await?;
                router.call(request).await
            };
            match tokio::time::timeout(timeout, call).await {
                Ok(response) => response,
                Err(_) => Ok(axum::response::IntoResponse::into_response(
                    http::StatusCode::REQUEST_TIMEOUT,
                )),
            }
        }
    });
    let io = TokioIo::new(WriteDeadline::new(stream, limits.write_timeout));
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = closed.wait_for(|closing| *closing) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}
