//! What every handler shares: the upstream seam, the REST sessions, the media store, the configuration
//! and whether the bridge is draining — plus the dialect of the listener (or path) the request came in on.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::Config;
use crate::media::MediaStore;
use crate::quipd_admin::QuipdAdmin;
use crate::renders::Renders;
use crate::rest_clients::RestClients;
use crate::upstream::Upstream;
use quip_dialect::Dialect;

/// Cheap to clone: two `Arc`s. Every listener has its own `App` (its dialect); they share the rest.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
    dialect: Arc<Dialect>,
}

struct Inner {
    upstream: Upstream,
    rest: RestClients,
    config: Config,
    media: MediaStore,
    draining: AtomicBool,
    /// Client connections held and Socket.IO connects in their upstream handshake (`[limits]`).
    admission: quip_service::Admission,
    /// Recent messages' JSON, shared by the sockets that deliver them.
    renders: Arc<Renders>,
    /// quipd's admin API, for the legacy apps' admin routes (`None`: not configured).
    quipd_admin: Option<QuipdAdmin>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("listen", &self.inner.config.listen)
            .field("dialect", &self.dialect.name())
            .field("draining", &self.draining())
            .finish_non_exhaustive()
    }
}

impl App {
    /// The main listener's state, speaking `dialect` (the canonical one unless told otherwise).
    pub fn new(config: Config, upstream: Upstream, dialect: Arc<Dialect>, admission: quip_service::Admission) -> Self {
        let idle = std::time::Duration::from_secs(config.upstream.rest_idle_secs);
        let rest = RestClients::new(upstream.clone(), idle);
        let media = MediaStore::new(&config.media);
        crate::media::sign::init(
            &config.media.signing_secret,
            std::time::Duration::from_secs(config.media.url_ttl_secs),
        );
        let draining = AtomicBool::new(false);
        let renders = Arc::new(Renders::default());
        let up = &config.upstream;
        let quipd_admin = QuipdAdmin::new(&up.admin_url, &up.admin_token, up.request_timeout());
        let inner = Inner { upstream, rest, config, media, draining, admission, renders, quipd_admin };
        Self { inner: Arc::new(inner), dialect }
    }

    /// The same bridge seen through another dialect (for that dialect's listener or path).
    pub fn with_dialect(&self, dialect: Arc<Dialect>) -> Self {
        Self { inner: self.inner.clone(), dialect }
    }

    pub fn renders(&self) -> &Arc<Renders> {
        &self.inner.renders
    }

    pub fn upstream(&self) -> &Upstream {
        &self.inner.upstream
    }

    pub fn rest(&self) -> &RestClients {
        &self.inner.rest
    }

    pub fn dialect(&self) -> &Arc<Dialect> {
        &self.dialect
    }

    pub fn media(&self) -> &MediaStore {
        &self.inner.media
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn quipd_admin(&self) -> Option<&QuipdAdmin> {
        self.inner.quipd_admin.as_ref()
    }

    pub fn admission(&self) -> &quip_service::Admission {
        &self.inner.admission
    }

    pub fn draining(&self) -> bool {
        self.inner.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.inner.draining.store(true, Ordering::Relaxed);
    }
}
