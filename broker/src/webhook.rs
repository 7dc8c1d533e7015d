//! The offline hook: when a message arrives for a member with no online device, quipd tells the app's
//! backend (which sends a push notification) by POSTing JSON to a configured URL.
//!
//! Delivery never waits for it: the fan-out pushes into a bounded queue with `try_send` and a full
//! queue drops the notice (counted in `quip_webhook_calls_total{result="dropped"}`). One task drains
//! the queue, groups notices into batches (up to `batch_max`, or what arrived within `batch_wait_ms`)
//! and POSTs each batch, retrying failures with exponential backoff up to `max_attempts`. When a
//! secret is configured the body is signed: `X-Quip-Signature: sha256=<hex HMAC-SHA256 of the body>`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// `[webhook]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://host:port/path` to POST offline notices to. Empty: no webhook.
    pub url: String,
    /// HMAC-SHA256 key for the `X-Quip-Signature` header. Empty: unsigned.
    pub secret: String,
    /// Most notices in one POST.
    pub batch_max: usize,
    /// How long a batch may wait to fill, in milliseconds.
    pub batch_wait_ms: u64,
    /// Attempts per batch before it is dropped.
    pub max_attempts: u32,
    /// Notices waiting to be sent before new ones are dropped.
    pub queue: usize,
    /// Per-request timeout, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            secret: String::new(),
            batch_max: 100,
            batch_wait_ms: 200,
            max_attempts: 5,
            queue: 10_000,
            timeout_ms: 5_000,
        }
    }
}

impl WebhookConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.url.is_empty() {
            return Ok(());
        }
        let uri: hyper::Uri = self.url.parse().map_err(|e| format!("webhook.url: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err("webhook.url must be an http:// URL (put a TLS-terminating proxy in front for https)".into());
        }
        if self.batch_max == 0 || self.max_attempts == 0 || self.queue == 0 {
            return Err("webhook.batch_max, webhook.max_attempts and webhook.queue must be positive".into());
        }
        Ok(())
    }
}

/// One message for a member who had no device online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineNotice {
    pub user_id: String,
    pub conversation_id: u64,
    pub message_id: u64,
    pub seq: u64,
    pub sender_id: String,
    pub sender_name: Option<String>,
    /// The first characters of the text.
    pub preview: String,
    pub created_at_ms: u64,
}

/// The body of each POST.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    pub notices: Vec<OfflineNotice>,
}

/// Handle to the webhook task; a no-op when no URL is configured.
#[derive(Debug, Clone, Default)]
pub struct Webhook {
    tx: Option<mpsc::Sender<OfflineNotice>>,
}

impl Webhook {
    /// Starts the sending task (call within a tokio runtime).
    pub fn start(cfg: &WebhookConfig) -> Self {
        if cfg.url.is_empty() {
            return Self::default();
        }
        let (tx, rx) = mpsc::channel(cfg.queue);
        tokio::spawn(run(cfg.clone(), rx));
        Self { tx: Some(tx) }
    }

    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues a notice without waiting; drops it when the queue is full.
    pub fn push(&self, notice: OfflineNotice) {
        let Some(tx) = &self.tx else { return };
        if tx.try_send(notice).is_err() {
            metrics::counter!("quip_webhook_calls_total", "result" => "dropped").increment(1);
        }
    }
}

async fn run(cfg: WebhookConfig, mut rx: mpsc::Receiver<OfflineNotice>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let wait = Duration::from_millis(cfg.batch_wait_ms);
    while let Some(first) = rx.recv().await {
        let mut notices = vec![first];
        let deadline = tokio::time::Instant::now() + wait;
        while notices.len() < cfg.batch_max {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(n)) => notices.push(n),
                _ => break,
            }
        }
        let body = match serde_json::to_vec(&Batch { notices }) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                tracing::error!(error = %e, "webhook: cannot encode a batch");
                continue;
            }
        };
        post_with_retries(&client, &cfg, body).await;
    }
}

async fn post_with_retries(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    cfg: &WebhookConfig,
    body: Bytes,
) {
    let signature = (!cfg.secret.is_empty()).then(|| {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, cfg.secret.as_bytes());
        let tag = ring::hmac::sign(&key, &body);
        format!("sha256={}", tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
    });
    let mut backoff = Duration::from_millis(200);
    for attempt in 1..=cfg.max_attempts {
        let mut req = hyper::Request::post(cfg.url.as_str()).header("content-type", "application/json");
        if let Some(sig) = &signature {
            req = req.header("x-quip-signature", sig.as_str());
        }
        let req = match req.body(Full::new(body.clone())) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "webhook: bad request");
                return;
            }
        };
        let outcome = tokio::time::timeout(Duration::from_millis(cfg.timeout_ms), client.request(req)).await;
        let retryable = match outcome {
            Ok(Ok(resp)) if resp.status().is_success() => {
                metrics::counter!("quip_webhook_calls_total", "result" => "ok").increment(1);
                return;
            }
            Ok(Ok(resp)) => {
                let status = resp.status();
                tracing::warn!(%status, attempt, "webhook: refused");
                status.is_server_error() || status == hyper::StatusCode::TOO_MANY_REQUESTS
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, attempt, "webhook: request failed");
                true
            }
            Err(_) => {
                tracing::warn!(attempt, "webhook: timed out");
                true
            }
        };
        if !retryable {
            break;
        }
        metrics::counter!("quip_webhook_calls_total", "result" => "retry").increment(1);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
    metrics::counter!("quip_webhook_calls_total", "result" => "failed").increment(1);
    tracing::error!("webhook: batch dropped after {} attempts", cfg.max_attempts);
}
