//! What every handler shares: the upstream seam, the REST sessions, the translation seam, the
//! configuration and whether the bridge is draining.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::Config;
use crate::rest_clients::RestClients;
use crate::translate::Translate;
use crate::upstream::Upstream;

/// Cheap to clone: one `Arc`.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    upstream: Upstream,
    rest: RestClients,
    translator: Arc<dyn Translate>,
    config: Config,
    draining: AtomicBool,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("listen", &self.inner.config.listen)
            .field("translator", &self.inner.translator)
            .field("draining", &self.draining())
            .finish_non_exhaustive()
    }
}

impl App {
    pub fn new(config: Config, upstream: Upstream, translator: Arc<dyn Translate>) -> Self {
        let idle = std::time::Duration::from_secs(config.upstream.rest_idle_secs);
        let rest = RestClients::new(upstream.clone(), idle);
        Self { inner: Arc::new(Inner { upstream, rest, translator, config, draining: AtomicBool::new(false) }) }
    }

    pub fn upstream(&self) -> &Upstream {
        &self.inner.upstream
    }

    pub fn rest(&self) -> &RestClients {
        &self.inner.rest
    }

    pub fn translator(&self) -> Arc<dyn Translate> {
        self.inner.translator.clone()
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn draining(&self) -> bool {
        self.inner.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.inner.draining.store(true, Ordering::Relaxed);
    }
}
