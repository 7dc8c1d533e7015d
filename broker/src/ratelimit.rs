//! Per-user rate limits: one token bucket per (user, class of request).
//!
//! Buckets refill continuously at `per_period / period` and hold at most `per_period` tokens, so a user
//! may burst up to a full period's allowance and then continues at the steady rate. A refused request
//! learns how long until the next token (`retry_after`). Concurrency: buckets live in shards of
//! `Mutex<HashMap>`; a check locks one shard for a few arithmetic operations and never across `.await`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Class {
    Messages,
    Conversations,
    Typing,
    Presence,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Messages => "messages",
            Class::Conversations => "conversations",
            Class::Typing => "typing",
            Class::Presence => "presence",
        }
    }
}

/// The allowances of one client profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateProfile {
    /// Messages sent per minute (and the burst).
    pub messages_per_minute: u32,
    /// New conversations (direct or group) per hour.
    pub conversations_per_hour: u32,
    /// Typing signals forwarded per minute.
    pub typing_per_minute: u32,
    /// Presence changes per minute.
    pub presence_per_minute: u32,
}

impl RateProfile {
    /// Generous limits for native clients (quip-sdk over QUIC).
    pub fn native() -> Self {
        Self { messages_per_minute: 600, conversations_per_hour: 200, typing_per_minute: 120, presence_per_minute: 60 }
    }

    /// The seeds' limits (30 messages a minute, 10 new conversations an hour), for web clients via the bridge.
    pub fn bridge() -> Self {
        Self { messages_per_minute: 30, conversations_per_hour: 10, typing_per_minute: 60, presence_per_minute: 20 }
    }

    fn allowance(&self, class: Class) -> (u32, Duration) {
        match class {
            Class::Messages => (self.messages_per_minute, Duration::from_secs(60)),
            Class::Conversations => (self.conversations_per_hour, Duration::from_secs(3600)),
            Class::Typing => (self.typing_per_minute, Duration::from_secs(60)),
            Class::Presence => (self.presence_per_minute, Duration::from_secs(60)),
        }
    }
}

impl Default for RateProfile {
    fn default() -> Self {
        Self::native()
    }
}

/// `[rate_limits]`: one profile per kind of client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub native: RateProfile,
    pub bridge: RateProfile,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { native: RateProfile::native(), bridge: RateProfile::bridge() }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

const SHARDS: usize = 16;
/// A shard prunes its full (idle) buckets when it holds more than this many.
const PRUNE_AT: usize = 4096;

type Shard = Mutex<HashMap<(String, Class), Bucket>>;

/// Token buckets for every user.
#[derive(Debug)]
pub struct RateLimiter {
    profile: RateProfile,
    shards: Box<[Shard]>,
    hasher: RandomState,
}

impl RateLimiter {
    pub fn new(profile: RateProfile) -> Self {
        Self { profile, shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), hasher: RandomState::new() }
    }

    /// Takes one token for `user` in `class`, or says how long until one is available.
    pub fn check(&self, user: &str, class: Class, now: Instant) -> Result<(), Duration> {
        let (per_period, period) = self.profile.allowance(class);
        if per_period == 0 {
            return Err(period);
        }
        let capacity = f64::from(per_period);
        let rate = capacity / period.as_secs_f64();
        let shard = &self.shards[(self.hasher.hash_one(user) as usize) % SHARDS];
        let mut buckets = shard.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_AT {
            buckets.retain(|(_, c), b| {
                let (n, p) = self.profile.allowance(*c);
                let refilled =
                    b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * f64::from(n) / p.as_secs_f64();
                refilled < f64::from(n)
            });
        }
        let bucket = buckets.entry((user.to_owned(), class)).or_insert(Bucket { tokens: capacity, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_up_to_the_allowance_then_refills_steadily() {
        let limiter = RateLimiter::new(RateProfile { messages_per_minute: 30, ..RateProfile::bridge() });
        let t0 = Instant::now();
        for _ in 0..30 {
            assert!(limiter.check("u", Class::Messages, t0).is_ok());
        }
        let wait = limiter.check("u", Class::Messages, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(2) && wait > Duration::from_millis(1900), "{wait:?}");
        // Other users and other classes are not affected.
        assert!(limiter.check("v", Class::Messages, t0).is_ok());
        assert!(limiter.check("u", Class::Typing, t0).is_ok());
        // One token every two seconds.
        assert!(limiter.check("u", Class::Messages, t0 + Duration::from_secs(2)).is_ok());
        assert!(limiter.check("u", Class::Messages, t0 + Duration::from_secs(2)).is_err());
    }

    #[test]
    fn a_zero_allowance_refuses_everything() {
        let limiter = RateLimiter::new(RateProfile { presence_per_minute: 0, ..RateProfile::native() });
        assert!(limiter.check("u", Class::Presence, Instant::now()).is_err());
    }
}
