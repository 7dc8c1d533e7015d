//! The one HTTP listener: Socket.IO at `/socket.io/`, REST under `/api`, `/healthz`, `/readyz` and the web
//! page at `/`; graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::config::{Config, ConfigError};
use crate::translate::{Canonical, Translate};
use crate::upstream::Upstream;
use crate::{rest, socket};

/// Why the bridge could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("HTTP server: {0}")]
    Serve(std::io::Error),
}

/// A configured bridge, ready to serve.
#[derive(Debug)]
pub struct Bridge {
    app: App,
}

impl Bridge {
    /// Validates `config` and prepares the upstream seam (reads the CA file if one is configured).
    pub fn new(config: Config) -> Result<Self, BridgeError> {
        Self::with_translator(config, Arc::new(Canonical))
    }

    /// A bridge speaking a dialect on Socket.IO instead of the canonical vocabulary.
    pub fn with_translator(config: Config, translator: Arc<dyn Translate>) -> Result<Self, BridgeError> {
        config.validate()?;
        let trust = config.trust()?;
        let upstream = Upstream::new(&config, trust);
        Ok(Self { app: App::new(config, upstream, translator) })
    }

    /// Binds the configured `listen` address.
    pub async fn bind(&self) -> Result<TcpListener, BridgeError> {
        let addr = self.app.config().listen;
        TcpListener::bind(addr).await.map_err(|source| BridgeError::Bind { addr, source })
    }

    /// Serves on `listener` until `shutdown` resolves, then stops accepting, disconnects every socket
    /// (closing their upstream sessions), closes the REST sessions and returns once every connection is
    /// done.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BridgeError> {
        let app = self.app;
        let (layer, io) = SocketIo::builder().with_state(app.clone()).max_buffer_size(256).build_layer();
        socket::install(&io);
        let router = router(&app).layer(layer).layer(cors(app.config())).layer(TraceLayer::new_for_http());

        let sweeper = tokio::spawn({
            let app = app.clone();
            async move {
                let mut tick = tokio::time::interval(app.rest().sweep_interval());
                loop {
                    tick.tick().await;
                    app.rest().sweep().await;
                }
            }
        });
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, upstream = %app.config().upstream.server, "quip-bridge listening");
        }
        let drain = {
            let app = app.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: disconnecting sockets");
                app.start_draining();
                io.close().await;
                app.rest().close_all().await;
            }
        };
        let served = axum::serve(listener, router).with_graceful_shutdown(drain).await;
        sweeper.abort();
        app.rest().close_all().await;
        tracing::info!("quip-bridge stopped");
        served.map_err(BridgeError::Serve)
    }
}

fn router(app: &App) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest("/api", rest::router())
        .with_state(app.clone())
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
