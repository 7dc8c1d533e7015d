//! A quipd running on a thread of its own, with its own tokio runtime: for tests, benchmarks and
//! embedding. Unlike a task spawned on the caller's runtime, it outlives the caller's runtime and is
//! stopped deterministically: `stop` (or drop) drains it as SIGTERM does and returns only when RocksDB is
//! closed, so a process never exits while the database is still being written or closed.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::config::Config;
use crate::presence::PresenceConfig;
use crate::server::{Server, ServerError, TlsReloader};

/// Worker threads of the server's runtime.
const WORKERS: usize = 2;

/// What a started server tells its owner.
#[derive(Debug, Clone)]
pub struct Started {
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub admin_token: String,
    pub fingerprint: String,
    pub tls_reloader: TlsReloader,
}

/// A running quipd on its own thread; dropping it stops it gracefully and waits.
#[derive(Debug)]
pub struct BackgroundServer {
    started: Started,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), ServerError>>>,
}

impl BackgroundServer {
    /// Binds and runs quipd with `cfg`; returns once it listens.
    pub fn start(cfg: Config, presence: PresenceConfig) -> Result<Self, ServerError> {
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<Started, ServerError>>(1);
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("quipd".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(WORKERS)
                    .thread_name("quipd-worker")
                    .enable_all()
                    .build()
                    .map_err(ServerError::Thread)?;
                runtime.block_on(async move {
                    let server = match bind(cfg, presence) {
                        Ok((server, started)) => {
                            let _ = ready_tx.send(Ok(started));
                            server
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    server
                        .run(async move {
                            let _ = stopped.await;
                        })
                        .await
                })
            })
            .map_err(ServerError::Thread)?;
        match ready_rx.recv() {
            Ok(Ok(started)) => Ok(Self { started, stop: Some(stop), thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(thread.join().map_or(ServerError::Panicked, |r| r.err().unwrap_or(ServerError::Panicked))),
        }
    }

    /// Addresses, token and TLS handle of the running server.
    pub fn started(&self) -> &Started {
        &self.started
    }

    /// Stops gracefully (as on SIGTERM) and waits until the store is closed. Blocking.
    pub fn stop(mut self) -> Result<(), ServerError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| ServerError::Panicked)?,
            None => Ok(()),
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "stopping the background server failed");
        }
    }
}

fn bind(cfg: Config, presence: PresenceConfig) -> Result<(Server, Started), ServerError> {
    let server = Server::bind_with(cfg, presence)?;
    let started = Started {
        addr: server.local_addr().map_err(ServerError::LocalAddr)?,
        admin_addr: server.admin_addr().map_err(ServerError::LocalAddr)?,
        admin_token: server.admin_token().to_owned(),
        fingerprint: server.fingerprint().to_owned(),
        tls_reloader: server.tls_reloader(),
    };
    Ok((server, started))
}
