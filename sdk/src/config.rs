//! Client configuration: where the broker is, how to trust it ([`Trust`], defined with the TLS code that
//! reads it), who we are, how to reconnect.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use quip_protocol::ResumePoint;

use crate::Error;
use crate::tls::Trust;

/// Protocol maximum of `Hello.token` (bytes).
const MAX_TOKEN: usize = 8 * 1024;
/// Protocol maximum of `Hello.device_id` (bytes).
const MAX_DEVICE_ID: usize = 64;

/// When and how often to reconnect after the connection drops.
///
/// The delay before attempt `n` (0-based) is `min(max_backoff, initial_backoff * 2^n)`, of which the upper
/// half is random (so a fleet of clients does not reconnect in lockstep), and never less than what the
/// broker asked for (`Goodbye.reconnect_after_ms`, `retry_after_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectPolicy {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Give up after this many failed attempts in a row; `None` retries forever, `Some(0)` never reconnects.
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self { initial_backoff: Duration::from_millis(250), max_backoff: Duration::from_secs(30), max_attempts: None }
    }
}

impl ReconnectPolicy {
    /// Never reconnect: the first disconnection ends the client.
    pub fn disabled() -> Self {
        Self { max_attempts: Some(0), ..Self::default() }
    }

    /// The delay before attempt `attempt` (0-based), with `jitter` in `[0, 1]` picking a point in the upper
    /// half of the exponential step.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        let step = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        let half = step / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// True when attempt `attempt` (0-based) may still be made.
    pub fn allows(&self, attempt: u32) -> bool {
        self.max_attempts.is_none_or(|max| attempt < max)
    }
}

/// Everything [`crate::Client::connect`] needs.
#[derive(Clone)]
pub struct ClientConfig {
    /// The broker's QUIC address.
    pub server: SocketAddr,
    /// The TLS server name (SNI, and the name checked with [`Trust::CaPem`]). Default `localhost`.
    pub server_name: String,
    /// The JWT; replaced by [`crate::Client::refresh_token`] for later reconnects.
    pub token: String,
    /// Stable per app install (at most 64 bytes). A second session with the same user and device replaces
    /// the first.
    pub device_id: String,
    pub trust: Trust,
    pub reconnect: ReconnectPolicy,
    /// How long a request (and a connection attempt) may take. Default 10 s.
    pub request_timeout: Duration,
    /// Events buffered for the app (at least 1). When the buffer is full the SDK stops reading the event
    /// stream until the app catches up. Default 1024.
    pub event_buffer: usize,
    /// Where to resume from on the first connection (e.g. a [`ResumePoint`] the app saved from
    /// [`crate::Client::resume_point`] before it last exited). `None` starts live.
    pub resume: Option<ResumePoint>,
    /// Tell the broker which messages reached the app (`MarkDelivered`, sent by the SDK as the app takes
    /// messages from the event stream, coalesced per conversation; the user's own messages are not
    /// reported). Default true.
    pub report_delivered: bool,
    /// No person is behind this session, only requests (a gateway serving HTTP calls): the broker does
    /// not count it in the user's presence. Default false.
    pub passive: bool,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("server", &self.server)
            .field("server_name", &self.server_name)
            .field("token", &format_args!("<{} bytes>", self.token.len()))
            .field("device_id", &self.device_id)
            .field("trust", &self.trust)
            .field("reconnect", &self.reconnect)
            .field("request_timeout", &self.request_timeout)
            .field("event_buffer", &self.event_buffer)
            .field("resume", &self.resume)
            .field("report_delivered", &self.report_delivered)
            .field("passive", &self.passive)
            .finish()
    }
}

impl ClientConfig {
    /// A configuration with the defaults for everything else.
    pub fn new(server: SocketAddr, trust: Trust, token: impl Into<String>, device_id: impl Into<String>) -> Self {
        Self {
            server,
            server_name: "localhost".to_owned(),
            token: token.into(),
            device_id: device_id.into(),
            trust,
            reconnect: ReconnectPolicy::default(),
            request_timeout: Duration::from_secs(10),
            event_buffer: 1024,
            resume: None,
            report_delivered: true,
            passive: false,
        }
    }

    /// Checks everything that can be checked without connecting (including that the trust material
    /// parses).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::Config(msg));
        if self.server.ip().is_unspecified() || self.server.port() == 0 {
            return bad(format!("server address {} is not connectable", self.server));
        }
        if rustls::pki_types::ServerName::try_from(self.server_name.as_str()).is_err() {
            return bad(format!("server_name {:?} is not a valid DNS name or IP address", self.server_name));
        }
        if self.token.is_empty() || self.token.len() > MAX_TOKEN {
            return bad(format!("token must be 1..={MAX_TOKEN} bytes, not {}", self.token.len()));
        }
        if self.device_id.is_empty() || self.device_id.len() > MAX_DEVICE_ID {
            return bad(format!("device_id must be 1..={MAX_DEVICE_ID} bytes, not {}", self.device_id.len()));
        }
        crate::tls::check_trust(&self.trust)?;
        let r = &self.reconnect;
        if r.initial_backoff.is_zero() || r.max_backoff < r.initial_backoff {
            return bad(format!(
                "reconnect backoff must satisfy 0 < initial ({:?}) <= max ({:?})",
                r.initial_backoff, r.max_backoff
            ));
        }
        if self.request_timeout.is_zero() {
            return bad("request_timeout must be positive".into());
        }
        if self.event_buffer == 0 {
            return bad("event_buffer must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";

    fn cfg() -> ClientConfig {
        let server = SocketAddr::from(([127, 0, 0, 1], 4433));
        ClientConfig::new(server, Trust::Fingerprint(FP.into()), "jwt", "dev-1")
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(cfg().validate(), Ok(()));
        assert_eq!(cfg().server_name, "localhost");
    }

    #[test]
    fn invalid_configs_are_rejected() {
        type Mutation = fn(&mut ClientConfig);
        let cases: Vec<(&str, Mutation)> = vec![
            ("unspecified address", |c| c.server = SocketAddr::from(([0, 0, 0, 0], 4433))),
            ("port 0", |c| c.server = SocketAddr::from(([127, 0, 0, 1], 0))),
            ("empty server name", |c| c.server_name.clear()),
            ("bad server name", |c| c.server_name = "not a name".into()),
            ("empty token", |c| c.token.clear()),
            ("long token", |c| c.token = "t".repeat(MAX_TOKEN + 1)),
            ("empty device", |c| c.device_id.clear()),
            ("long device", |c| c.device_id = "d".repeat(65)),
            ("short fingerprint", |c| c.trust = Trust::Fingerprint("00:11".into())),
            ("non-hex fingerprint", |c| c.trust = Trust::Fingerprint("zz".repeat(32))),
            ("empty PEM", |c| c.trust = Trust::CaPem(b"nothing here".to_vec())),
            ("zero backoff", |c| c.reconnect.initial_backoff = Duration::ZERO),
            ("max < initial", |c| c.reconnect.max_backoff = Duration::from_millis(1)),
            ("zero timeout", |c| c.request_timeout = Duration::ZERO),
            ("zero buffer", |c| c.event_buffer = 0),
        ];
        for (name, mutate) in cases {
            let mut c = cfg();
            mutate(&mut c);
            assert!(matches!(c.validate(), Err(Error::Config(_))), "{name} should be rejected");
        }
    }

    #[test]
    fn ip_server_names_and_bare_fingerprints_are_accepted() {
        let mut c = cfg();
        c.server_name = "127.0.0.1".into();
        c.trust = Trust::Fingerprint(FP.replace(':', "").to_uppercase());
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn debug_hides_the_token() {
        let mut c = cfg();
        c.token = "secret-token-value".into();
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret-token-value"), "{shown}");
        assert!(shown.contains("<18 bytes>"), "{shown}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let p = ReconnectPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_attempts: None,
        };
        let steps = [100u64, 200, 400, 800, 1000, 1000];
        for (attempt, step) in steps.iter().enumerate() {
            let attempt = attempt as u32;
            assert_eq!(p.delay(attempt, 0.0), Duration::from_millis(step / 2), "attempt {attempt} low");
            assert_eq!(p.delay(attempt, 1.0), Duration::from_millis(*step), "attempt {attempt} high");
            let mid = p.delay(attempt, 0.5);
            assert!(mid >= Duration::from_millis(step / 2) && mid <= Duration::from_millis(*step));
        }
        // Huge attempt numbers saturate instead of overflowing; out-of-range jitter is clamped.
        assert_eq!(p.delay(u32::MAX, 7.0), Duration::from_secs(1));
        assert_eq!(p.delay(3, -1.0), Duration::from_millis(400));
    }

    #[test]
    fn attempts_are_limited_when_asked() {
        assert!(ReconnectPolicy::default().allows(1_000_000));
        assert!(!ReconnectPolicy::disabled().allows(0));
        let three = ReconnectPolicy { max_attempts: Some(3), ..ReconnectPolicy::default() };
        assert!(three.allows(2) && !three.allows(3));
    }
}
