//! The HTTP listeners: the main one (Socket.IO at `/socket.io/`, REST under `/api`, `/healthz`, `/readyz`,
//! the web page at `/`, in the canonical vocabulary, plus any dialect mounted under a path prefix), one
//! per `[[dialects]]` entry with a `listen` address (that dialect's Socket.IO and REST, then the canonical
//! REST), and the admin listener (`/metrics`, `/healthz`, `/readyz`); graceful shutdown of all of them
//! together, the admin listener last so that probes see the drain.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use quip_dialect::{Dialect, DialectError};
use socketioxide::SocketIo;
use socketioxide::layer::SocketIoLayer;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::config::{Config, ConfigError, DialectListenerConfig};
use crate::dialects;
use crate::upstream::Upstream;
use crate::{rest, socket};

/// Why the bridge could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("dialect: {0}")]
    Dialect(#[from] DialectError),
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("HTTP server: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Admission(#[from] quip_service::AdmissionError),
}

/// A configured bridge, ready to serve.
#[derive(Debug)]
pub struct Bridge {
    app: App,
    dialects: Vec<(DialectListenerConfig, Arc<Dialect>)>,
}

/// A bound listener of a dialect (a `[[dialects]]` entry with `listen`).
#[derive(Debug)]
pub struct DialectListener {
    /// The dialect's name.
    pub name: String,
    pub listener: TcpListener,
}

/// Every listener of a bridge, bound: the main one, the dialects' own, the admin one.
#[derive(Debug)]
pub struct Listeners {
    pub main: TcpListener,
    pub dialects: Vec<DialectListener>,
    pub admin: TcpListener,
}

impl Bridge {
    /// Validates `config`, loads its dialects and prepares the upstream seam (reads the CA file if one is
    /// configured).
    pub fn new(config: Config) -> Result<Self, BridgeError> {
        config.validate()?;
        let trust = config.trust()?;
        let upstream = Upstream::new(&config, trust);
        let mut dialects = Vec::new();
        for entry in &config.dialects {
            dialects.push((entry.clone(), Arc::new(dialects::builtin(&entry.name)?)));
        }
        let canonical = Arc::new(dialects::builtin("canonical")?);
        let admission = quip_service::Admission::new(config.admission())?;
        Ok(Self { app: App::new(config, upstream, canonical, admission), dialects })
    }

    /// Binds the configured main `listen` address.
    pub async fn bind(&self) -> Result<TcpListener, BridgeError> {
        let addr = self.app.config().listen;
        TcpListener::bind(addr).await.map_err(|source| BridgeError::Bind { addr, source })
    }

    /// Binds the main, dialect and admin addresses of the configuration.
    pub async fn bind_all(&self) -> Result<Listeners, BridgeError> {
        let admin = self.app.config().admin.listen;
        Ok(Listeners {
            main: self.bind().await?,
            dialects: self.bind_dialects().await?,
            admin: TcpListener::bind(admin).await.map_err(|source| BridgeError::Bind { addr: admin, source })?,
        })
    }

    /// Binds the listen address of every dialect that has one, in configuration order.
    pub async fn bind_dialects(&self) -> Result<Vec<DialectListener>, BridgeError> {
        let mut bound = Vec::new();
        for (entry, _) in &self.dialects {
            let Some(addr) = entry.listen else { continue };
            let listener = TcpListener::bind(addr).await.map_err(|source| BridgeError::Bind { addr, source })?;
            bound.push(DialectListener { name: entry.name.clone(), listener });
        }
        Ok(bound)
    }

    /// Binds the dialects' and the admin listeners, then serves like [`Self::run_all`].
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BridgeError> {
        let dialects = self.bind_dialects().await?;
        let addr = self.app.config().admin.listen;
        let admin = TcpListener::bind(addr).await.map_err(|source| BridgeError::Bind { addr, source })?;
        self.run_all(Listeners { main: listener, dialects, admin }, shutdown).await
    }

    /// Serves every listener until `shutdown` resolves, then: readiness goes false, the client listeners
    /// stop accepting, every socket is disconnected (closing its upstream session), the REST sessions are
    /// closed; once every client connection is done — or `shutdown.drain_timeout_ms` has passed, and the
    /// rest are closed — the admin listener stops too.
    pub async fn run_all(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BridgeError> {
        crate::telemetry::install();
        let Listeners { main: listener, dialects: dialect_listeners, admin } = listeners;
        let app = self.app;
        let mut ios = Vec::new();
        let mut main = router(&app);
        for (entry, d) in &self.dialects {
            if entry.mount.is_empty() {
                continue;
            }
            let dapp = app.with_dialect(d.clone());
            let (layer, io) = socket_layer(&dapp, format!("{}/socket.io", entry.mount));
            ios.push(io);
            main = main.nest(&entry.mount, rest::dialect::router(&dapp).with_state(dapp.clone())).layer(layer);
        }
        let (layer, io) = socket_layer(&app, "/socket.io".to_owned());
        ios.push(io);
        let main = main
            .layer(axum::middleware::from_fn(crate::telemetry::http))
            .layer(layer)
            .layer(cors(app.config()))
            .layer(TraceLayer::new_for_http());

        let mut servers = vec![(listener, main)];
        for bound in dialect_listeners {
            let Some((_, d)) = self.dialects.iter().find(|(e, _)| e.name == bound.name && e.listen.is_some()) else {
                continue;
            };
            let dapp = app.with_dialect(d.clone());
            let (layer, io) = socket_layer(&dapp, "/socket.io".to_owned());
            ios.push(io);
            let canonical = router(&app);
            let r = Router::new()
                .route("/healthz", get(healthz))
                .route("/readyz", get(readyz))
                .with_state(app.clone())
                .merge(rest::dialect::router(&dapp).with_state(dapp.clone()))
                .fallback_service(canonical)
                .layer(axum::middleware::from_fn(crate::telemetry::http))
                .layer(layer)
                .layer(cors(app.config()))
                .layer(TraceLayer::new_for_http());
            servers.push((bound.listener, r));
        }

        let sweeper = tokio::spawn({
            let app = app.clone();
            async move {
                let mut tick = tokio::time::interval(app.rest().sweep_interval());
                loop {
                    tick.tick().await;
                    let held = app.rest().sweep().await;
                    metrics::gauge!("quip_bridge_rest_sessions").set(held as f64);
                    quip_service::metrics::upkeep();
                }
            }
        });
        // Every admitted client connection holds a guard of `drain` until it closes.
        let drain = quip_service::Drain::new();
        // Turned true when the drain deadline passes: closes every client connection still open.
        let (close_tx, close_rx) = tokio::sync::watch::channel(false);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let closer = {
            let app = app.clone();
            tokio::spawn(async move {
                shutdown.await;
                tracing::info!("shutting down: disconnecting sockets");
                app.start_draining();
                for io in ios {
                    io.close().await;
                }
                app.rest().close_all().await;
                let _ = stop_tx.send(true);
            })
        };
        let (admin_stop, admin_stopped) = tokio::sync::watch::channel(false);
        let admin_router = admin_router(&app);
        let admin_task = tokio::spawn(async move {
            if let Ok(addr) = admin.local_addr() {
                tracing::info!(%addr, "admin listener (/metrics, /healthz, /readyz)");
            }
            quip_service::http::serve(admin, admin_router, quip_service::http::ADMIN_LIMITS, admin_stopped).await;
        });
        let mut tasks = Vec::new();
        // One count per client address over every client listener.
        let per_address = crate::listener::PerAddress::new(app.config().limits.max_connections_per_address);
        for (listener, router) in servers {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, upstream = %app.config().upstream.server, "quip-bridge listening");
            }
            let limits = &app.config().limits;
            let listener = crate::listener::AdmittedListener::new(
                listener,
                app.admission().clone(),
                per_address.clone(),
                std::time::Duration::from_millis(limits.idle_timeout_ms),
                drain.watch(),
                close_rx.clone(),
            );
            let serve = quip_service::http::ServeLimits {
                header_read_timeout: std::time::Duration::from_millis(limits.header_read_timeout_ms),
                // The admission limit (over every listener) is the one that counts.
                max_connections: usize::MAX,
            };
            tasks.push(tokio::spawn(quip_service::http::serve(listener, router, serve, stop_rx.clone())));
        }
        // Once shutdown began, the open client connections get the drain deadline to finish; what is
        // still open then is closed (its listener's task aborted).
        let aborts: Vec<_> = tasks.iter().map(tokio::task::JoinHandle::abort_handle).collect();
        let deadline = std::time::Duration::from_millis(app.config().shutdown.drain_timeout_ms);
        let watchdog = tokio::spawn({
            let mut stop = stop_rx.clone();
            async move {
                let _ = stop.wait_for(|s| *s).await;
                let outcome = drain.drain(tokio::time::Instant::now() + deadline).await;
                if let quip_service::DrainOutcome::TimedOut { remaining } = outcome {
                    tracing::warn!(remaining, "drain deadline passed; closing the client connections left");
                    close_tx.send_replace(true);
                    // Their connections now fail and end; the listeners' graceful shutdowns need not wait.
                    for abort in aborts {
                        abort.abort();
                    }
                }
            }
        });
        let mut served = Ok(());
        for task in tasks {
            match task.await {
                Ok(()) => {}
                Err(e) if e.is_cancelled() => {}
                Err(e) => served = Err(BridgeError::Serve(std::io::Error::other(e.to_string()))),
            }
        }
        watchdog.abort();
        closer.abort();
        sweeper.abort();
        app.rest().close_all().await;
        admin_stop.send_replace(true);
        if let Err(e) = admin_task.await {
            tracing::warn!(error = %e, "admin listener task failed");
        }
        tracing::info!("quip-bridge stopped");
        served
    }
}

/// Largest Socket.IO packet accepted, over long-polling and WebSocket alike (the reference server's
/// `maxHttpBufferSize`); a larger one closes its connection.
const MAX_SOCKETIO_PAYLOAD: u64 = 1_000_000;

/// A Socket.IO layer at `path` for `app`'s dialect.
fn socket_layer(app: &App, path: String) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .with_state(app.clone())
        .max_buffer_size(256)
        .max_payload(MAX_SOCKETIO_PAYLOAD)
        .ws_max_message_size(MAX_SOCKETIO_PAYLOAD as usize)
        .ws_max_frame_size(MAX_SOCKETIO_PAYLOAD as usize)
        .req_path(path)
        .build_layer();
    socket::install(&io);
    (layer, io)
}

fn router(app: &App) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/media/{id}", get(crate::media::http::serve))
        .nest("/api", rest::router())
        .with_state(app.clone())
}

/// The admin listener: Prometheus text at `/metrics`, and the probes.
fn admin_router(app: &App) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(app.clone())
}

async fn metrics_text(axum::extract::State(app): axum::extract::State<App>) -> impl IntoResponse {
    metrics::gauge!("quip_bridge_rest_sessions").set(app.rest().len() as f64);
    metrics::counter!("quip_bridge_upstream_sessions_cut_total")
        .absolute(quip_sdk::SharedQuicTransport::sessions_cut_off());
    ([(header::CONTENT_TYPE, quip_service::metrics::CONTENT_TYPE)], quip_service::metrics::render())
}

async fn page() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-cache")], Html(include_str!("web/index.html")))
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(axum::extract::State(app): axum::extract::State<App>) -> impl IntoResponse {
    if app.draining() {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "ready": false, "reason": "draining" })))
    } else {
        (StatusCode::OK, axum::Json(serde_json::json!({ "ready": true })))
    }
}

fn cors(config: &Config) -> CorsLayer {
    let origins = &config.cors.origins;
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-auth-token")])
        .expose_headers([header::RETRY_AFTER])
}
