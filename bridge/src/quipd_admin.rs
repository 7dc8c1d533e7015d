//! quipd's admin API, for the legacy apps' admin routes (KCS `GET /api/v1/chat/admin/websocket-stats`):
//! the bridge reads quipd's `GET /v1/stats` with quipd's admin token (`upstream.admin_url`,
//! `upstream.admin_token`). A caller is an admin when its bearer token is that same token, compared in
//! constant time: the bridge keeps no admin accounts of its own, and quipd's tokens for users never are.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::AUTHORIZATION;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use quip_sdk::ErrorCode;
use serde_json::Value;

use crate::error::ApiError;

/// Most bytes of a stats answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// An HTTP client of quipd's admin listener.
pub struct QuipdAdmin {
    base: String,
    token: String,
    timeout: Duration,
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl std::fmt::Debug for QuipdAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuipdAdmin").field("base", &self.base).finish_non_exhaustive()
    }
}

impl QuipdAdmin {
    /// `None` when no admin URL is configured (the admin routes then answer `Unavailable`).
    pub fn new(url: &str, token: &str, timeout: Duration) -> Option<Self> {
        if url.is_empty() {
            return None;
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        Some(Self { base: url.trim_end_matches('/').to_owned(), token: token.to_owned(), timeout, client })
    }

    /// Whether `token` is quipd's admin token.
    pub fn is_admin(&self, token: &str) -> bool {
        constant_time_eq(token.as_bytes(), self.token.as_bytes())
    }

    /// quipd's `/v1/stats` data: `{connections, sessions, users_online, messages_total,
    /// messages_per_second, active_conversations}`.
    pub async fn stats(&self) -> Result<Value, ApiError> {
        let unavailable = |why: String| ApiError::new(ErrorCode::Unavailable, why);
        let uri: hyper::Uri = format!("{}/v1/stats", self.base)
            .parse()
            .map_err(|_| unavailable("upstream.admin_url is not a URL".to_owned()))?;
        let request = hyper::Request::get(uri)
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Empty::new())
            .map_err(|e| unavailable(format!("the stats request: {e}")))?;
        let answer = async {
            let response =
                self.client.request(request).await.map_err(|e| unavailable(format!("quipd's admin API: {e}")))?;
            let status = response.status();
            let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| unavailable(format!("quipd's admin API: {e}")))?
                .to_bytes();
            if !status.is_success() {
                return Err(unavailable(format!("quipd's admin API answered {status}")));
            }
            let envelope: Value = serde_json::from_slice(&body)
                .map_err(|e| unavailable(format!("quipd's admin API answered no JSON: {e}")))?;
            Ok(envelope.get("data").cloned().unwrap_or(Value::Null))
        };
        tokio::time::timeout(self.timeout, answer)
            .await
            .unwrap_or_else(|_| Err(unavailable("quipd's admin API did not answer in time".to_owned())))
    }
}

/// Equal bytes, in a time that depends on the lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_token_is_an_admin() {
        let admin = QuipdAdmin::new("http://127.0.0.1:9", "s3cret-admin-token-of-32-bytes!!", Duration::from_secs(1));
        let admin = admin.unwrap_or_else(|| panic!("configured"));
        assert!(admin.is_admin("s3cret-admin-token-of-32-bytes!!"));
        assert!(!admin.is_admin("s3cret-admin-token-of-32-bytes!?"));
        assert!(!admin.is_admin(""));
        assert!(QuipdAdmin::new("", "x", Duration::from_secs(1)).is_none());
    }
}
