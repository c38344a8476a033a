//! The HTTP listener: hyper's HTTP/1 connections under a cap on open connections and hyper's
//! header read timeout, and the graceful drain (hyper-util's `GracefulShutdown`) bounded by a
//! deadline.
//!
//! Why not `axum::serve`: it exposes none of these settings, and its graceful shutdown waits
//! without a bound — a client that sends half its headers kept a shutdown from ever finishing.
//! HTTP/1 only: hyper's header read timeout is an HTTP/1 setting, and hyper-util's HTTP/2
//! detection would wait without one for a connection's first bytes.

use std::{convert::Infallible, future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use http::{Request, Response, StatusCode, header};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{
    net::{TcpListener, TcpSocket},
    sync::Semaphore,
    task::JoinSet,
};
use tower::ServiceExt;

use crate::config::HttpConfig;

/// Connections past the cap being answered 503 at once; past these, a new one is closed unanswered
/// (each refusal reads a request head first, which a slow client could otherwise pile up).
const MAX_REFUSALS: usize = 64;

/// Files the process holds open besides client connections — the database and its WAL, upstream
/// and metrics sockets, the terminal: a generous margin.
const OTHER_OPEN_FILES: u64 = 256;

/// Raises the soft open-file limit (up to the hard one) so that `max_connections` connections fit:
/// many systems start a service with a soft limit of 1024. Returns the limit now in force, or an
/// error naming what to change when the connections cannot fit (connections past the limit would
/// fail at accept, where the client sees a reset rather than the cap's 503).
pub fn fit_open_files(max_connections: usize) -> Result<u64, String> {
    let wanted = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_add(OTHER_OPEN_FILES);
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) if limit >= wanted => Ok(limit),
        Ok(limit) => Err(format!(
            "the open-file limit is {limit}, under http.max_connections ({max_connections}) plus              {OTHER_OPEN_FILES} for everything else: raise the hard limit (ulimit -Hn, LimitNOFILE)              or lower http.max_connections"
        )),
        Err(err) => Err(format!(
            "reading or raising the open-file limit failed: {err}"
        )),
    }
}

/// The server's listening socket, its accept queue as long as `max_connections`: a burst of
/// clients connecting at once is queued for `serve`'s accept loop rather than dropped. With the
/// standard library's queue of 128, 512 clients connecting together overflowed it (the kernel's
/// ListenOverflows counter), and each dropped SYN cost its client a one-second retransmit — the
/// p99 at 512 connections was 1.0 s. The kernel caps the length at `net.core.somaxconn`.
pub fn listen(address: SocketAddr, max_connections: usize) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restarted server can bind while old connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(u32::try_from(max_connections).unwrap_or(u32::MAX))
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every connection finished its in-flight request and closed.
    Complete,
    /// The deadline passed; this many connections were still open and were cut off.
    CutOff(usize),
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains: no new connection is
/// accepted, each open one finishes its in-flight request (its response says
/// `Connection: close`), idle ones close at once; after `drain_timeout` whatever is left is
/// closed. Every request sees the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &HttpConfig,
    shutdown: impl Future<Output = ()>,
) -> Drained {
    let mut http1 = http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    let mut refusal = http1.clone();
    refusal.keep_alive(false);
    let limit = settings.max_connections;
    let open = Arc::new(Semaphore::new(limit));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSALS));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            // Reaps finished connections so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        // Without TCP_NODELAY, small responses on keep-alive connections wait ~40 ms for the
        // client's delayed ACK (Nagle's algorithm).
        let _ = tcp.set_nodelay(true);
        if let Ok(permit) = open.clone().try_acquire_owned() {
            let connection =
                http1.serve_connection(TokioIo::new(tcp), with_peer(router.clone(), peer));
            let connection = graceful.watch(connection);
            connections.spawn(async move {
                if let Err(err) = connection.await {
                    tracing::debug!(%err, "connection ended with an error");
                }
                drop(permit);
            });
        } else if let Ok(permit) = refusing.clone().try_acquire_owned() {
            metrics::counter!("http_connections_refused_total").increment(1);
            let connection =
                refusal.serve_connection(TokioIo::new(tcp), service_fn(move |_| refuse(limit)));
            connections.spawn(async move {
                let _ = connection.await;
                drop(permit);
            });
        } else {
            metrics::counter!("http_connections_refused_total").increment(1);
            drop(tcp);
        }
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        deadline = %humantime::format_duration(settings.drain_timeout),
        "no longer accepting; waiting for in-flight requests"
    );
    let drained = tokio::select! {
        () = graceful.shutdown() => Drained::Complete,
        () = tokio::time::sleep(settings.drain_timeout) => {
            // Counts only the connections still running, not those finished but not reaped.
            while connections.try_join_next().is_some() {}
            Drained::CutOff(connections.len())
        }
    };
    // Ends the refusals still reading, and on a cut-off the connections left.
    connections.shutdown().await;
    match drained {
        Drained::Complete => tracing::info!("drained: every in-flight request finished"),
        Drained::CutOff(left) => tracing::warn!(
            connections = left,
            "drain deadline reached; closed the connections still open"
        ),
    }
    drained
}

/// The router as a hyper service that puts the peer address in each request's extensions.
fn with_peer(
    router: Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send,
> + Clone {
    service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    })
}

/// The answer on a connection past the cap: 503, retry in a second, and the connection closes.
async fn refuse(limit: usize) -> Result<Response<Body>, Infallible> {
    let body = serde_json::json!({
        "error": "too_many_connections",
        "error_description": format!(
            "this server has {limit} connections open, its limit; retry shortly"
        ),
    });
    Ok(Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::RETRY_AFTER, "1")
        .header(header::CONNECTION, "close")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a valid response"))
}

/// Accept errors are per connection (a reset before accept) or a lack of resources (too many
/// open files): neither stops the server; the second is given a moment to pass.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(%err, "accepting a connection failed; retrying in a moment");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::config::Config;

    /// 200 clients connecting at once, none accepted yet: every handshake completes, queued. With
    /// the standard library's queue of 128 the rest would wait on SYN retransmits and time out.
    #[tokio::test]
    async fn a_burst_of_connections_is_queued_not_dropped() {
        let listener = listen("127.0.0.1:0".parse().unwrap(), 1024).unwrap();
        let address = listener.local_addr().unwrap();
        let connects = (0..200).map(|_| {
            tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::TcpStream::connect(address),
            )
        });
        let connected = futures::future::join_all(connects).await;
        let queued = connected.iter().filter(|c| matches!(c, Ok(Ok(_)))).count();
        assert_eq!(queued, 200, "connections completed before any accept");
        drop(listener);
    }

    fn settings(drain: Duration) -> HttpConfig {
        HttpConfig {
            drain_timeout: drain,
            // Only the drain deadline can end a stalled request here.
            header_read_timeout: Duration::from_secs(600),
            ..Config::defaults().http
        }
    }

    /// Serves a router with one route on a free port until `stop` is sent; answers how it drained.
    async fn serving(
        settings: HttpConfig,
    ) -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Drained>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "hi" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, router, &settings, async move {
                let _ = stopped.await;
            })
            .await
        });
        (addr, stop, task)
    }

    #[tokio::test]
    async fn an_idle_server_drains_completely_and_a_stalled_request_is_cut_off() {
        let (_, stop, task) = serving(settings(Duration::from_secs(5))).await;
        stop.send(()).unwrap();
        assert_eq!(task.await.unwrap(), Drained::Complete);

        let (addr, stop, task) = serving(settings(Duration::from_millis(100))).await;
        let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
        stalled.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
        // Accepted in order: once a later connection is answered, the stalled one is open.
        let mut probe = tokio::net::TcpStream::connect(addr).await.unwrap();
        probe
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut probe, &mut answer)
            .await
            .unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"));
        stop.send(()).unwrap();
        assert_eq!(task.await.unwrap(), Drained::CutOff(1));
    }

    #[test]
    fn the_open_file_limit_is_raised_to_fit_the_connections_or_the_error_says_what_to_change() {
        let (_, hard) = rlimit::Resource::NOFILE.get().unwrap();
        let limit = fit_open_files(64).unwrap();
        assert!(limit >= 64 + OTHER_OPEN_FILES, "limit {limit}");
        let (soft, _) = rlimit::Resource::NOFILE.get().unwrap();
        assert!(soft >= 64 + OTHER_OPEN_FILES);

        let too_many = usize::try_from(hard).unwrap_or(usize::MAX);
        if hard < u64::MAX - OTHER_OPEN_FILES {
            let err = fit_open_files(too_many).unwrap_err();
            assert!(err.contains("http.max_connections"), "{err}");
        }
    }
}
