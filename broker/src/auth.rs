//! JWT authentication (jsonwebtoken).
//!
//! Tokens are checked against the keys the operator configured: an HS256 secret and/or RS256, ES256 and
//! EdDSA public keys from PEM files. Each key only ever verifies its own algorithm, so an HS256 token
//! "signed" with an RSA public key (algorithm confusion) finds no key; `alg: none` is refused before
//! any parsing. `exp` is required; `nbf`, `iss` and `aud` are checked when configured or present.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use quip_protocol::ErrorCode;
use serde::{Deserialize, Serialize};

use crate::config::AuthConfig;

/// The claims Quip reads. `sub` is the user id; `name` and `picture` seed the profile, and so do the
/// claims named in `auth.profile_claims` (kept in `extra` with every other claim).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Who a valid token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    /// Seconds since the epoch.
    pub expires_at: u64,
    pub issued_at: Option<u64>,
    /// Profile fields copied from the claims `auth.profile_claims` names: (field, value).
    pub fields: Vec<(String, String)>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("token is malformed or its signature does not verify")]
    Invalid,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet (nbf)")]
    NotYetValid,
    #[error("token audience is not accepted")]
    WrongAudience,
    #[error("token issuer is not accepted")]
    WrongIssuer,
    #[error("token algorithm {0} is not allowed")]
    AlgorithmNotAllowed(String),
    #[error("token subject is empty, too long or holds a control character")]
    BadSubject,
    #[error("could not load key {path}: {reason}")]
    Key { path: String, reason: String },
}

impl AuthError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Invalid | AuthError::BadSubject | AuthError::Key { .. } => ErrorCode::TokenInvalid,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::NotYetValid => ErrorCode::TokenNotYetValid,
            AuthError::WrongAudience => ErrorCode::WrongAudience,
            AuthError::WrongIssuer => ErrorCode::WrongIssuer,
            AuthError::AlgorithmNotAllowed(_) => ErrorCode::AlgorithmNotAllowed,
        }
    }
}

struct Key {
    alg: Algorithm,
    key: DecodingKey,
}

/// Verifies tokens; cheap to share behind an `Arc`.
pub struct Authenticator {
    keys: Vec<Key>,
    validation_base: Validation,
    dev_signer: Option<EncodingKey>,
    /// (profile field, claim) pairs from `auth.profile_claims`.
    profile_claims: Vec<(String, String)>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algs: Vec<_> = self.keys.iter().map(|k| k.alg).collect();
        f.debug_struct("Authenticator").field("algorithms", &algs).finish_non_exhaustive()
    }
}

/// The longest user id accepted (the protocol's limit).
const MAX_SUB: usize = 128;

impl Authenticator {
    /// Builds the verifier from config. `hs256_secret` is the resolved secret (the configured one, or
    /// the dev secret kept in the data directory).
    pub fn new(cfg: &AuthConfig, hs256_secret: Option<&[u8]>) -> Result<Self, AuthError> {
        let mut keys = Vec::new();
        if let Some(secret) = hs256_secret {
            keys.push(Key { alg: Algorithm::HS256, key: DecodingKey::from_secret(secret) });
        }
        for (path, alg) in [(&cfg.rs256_public_key, Algorithm::RS256), (&cfg.es256_public_key, Algorithm::ES256)]
            .into_iter()
            .chain([(&cfg.eddsa_public_key, Algorithm::EdDSA)])
        {
            if path.is_empty() {
                continue;
            }
            keys.push(Key { alg, key: load_public_key(Path::new(path), alg)? });
        }
        let mut validation_base = Validation::new(Algorithm::HS256);
        validation_base.leeway = cfg.leeway_secs;
        validation_base.validate_nbf = true;
        validation_base.set_required_spec_claims(&["exp", "sub"]);
        if !cfg.issuer.is_empty() {
            validation_base.set_issuer(&[cfg.issuer.as_str()]);
            validation_base.required_spec_claims.insert("iss".to_owned());
        }
        if cfg.audience.is_empty() {
            validation_base.validate_aud = false;
        } else {
            validation_base.set_audience(&[cfg.audience.as_str()]);
            validation_base.required_spec_claims.insert("aud".to_owned());
        }
        let dev_signer = hs256_secret.map(EncodingKey::from_secret);
        let profile_claims = cfg.profile_claims().map(|(f, c)| (f.to_owned(), c.to_owned())).collect();
        Ok(Self { keys, validation_base, dev_signer, profile_claims })
    }

    /// Verifies a token and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let alg = header_algorithm(token)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.alg == alg)
            .ok_or_else(|| AuthError::AlgorithmNotAllowed(format!("{alg:?}")))?;
        let mut validation = self.validation_base.clone();
        validation.algorithms = vec![alg];
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation).map_err(|e| map_error(e.kind()))?;
        let claims = data.claims;
        // A subject with a control character (a line break) could forge log lines: no user id has one.
        if claims.sub.is_empty() || claims.sub.len() > MAX_SUB || claims.sub.chars().any(char::is_control) {
            return Err(AuthError::BadSubject);
        }
        let fields = self
            .profile_claims
            .iter()
            .filter_map(|(field, claim)| Some((field.clone(), claim_text(claims.extra.get(claim)?)?)))
            .collect();
        Ok(Identity {
            user_id: claims.sub,
            display_name: claims.name,
            avatar_url: claims.picture,
            expires_at: claims.exp,
            issued_at: claims.iat,
            fields,
        })
    }

    /// Mints an HS256 token with the configured (or dev) secret: for development and tests.
    pub fn mint(&self, claims: &Claims) -> Option<String> {
        let signer = self.dev_signer.as_ref()?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, signer).ok()
    }
}

/// Longest claim value copied into a profile field, in bytes (longer ones are cut at a character).
const MAX_CLAIM_TEXT: usize = 256;

/// A claim's value as profile text: strings as they are, numbers and booleans written out; anything
/// else (objects, lists, null) is not copied.
fn claim_text(v: &serde_json::Value) -> Option<String> {
    let mut text = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    if text.len() > MAX_CLAIM_TEXT {
        let mut end = MAX_CLAIM_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Some(text)
}

/// Reads `alg` from the token header without trusting anything else, refusing `none` and unknown names.
fn header_algorithm(token: &str) -> Result<Algorithm, AuthError> {
    let header_b64 = token.split('.').next().ok_or(AuthError::Invalid)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header_b64.trim_end_matches('='))
        .map_err(|_| AuthError::Invalid)?;
    #[derive(Deserialize)]
    struct RawHeader {
        alg: String,
    }
    let header: RawHeader = serde_json::from_slice(&raw).map_err(|_| AuthError::Invalid)?;
    match header.alg.as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        "EdDSA" => Ok(Algorithm::EdDSA),
        other => Err(AuthError::AlgorithmNotAllowed(other.chars().take(16).collect())),
    }
}

fn map_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
            AuthError::AlgorithmNotAllowed("mismatch".into())
        }
        _ => AuthError::Invalid,
    }
}

fn load_public_key(path: &Path, alg: Algorithm) -> Result<DecodingKey, AuthError> {
    let err = |reason: String| AuthError::Key { path: path.display().to_string(), reason };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let key = match alg {
        Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
        _ => DecodingKey::from_ed_pem(&pem),
    };
    key.map_err(|e| err(e.to_string()))
}

/// Claims for a dev token valid for `ttl_secs` from `now_secs`.
pub fn dev_claims(user: &str, name: Option<&str>, now_secs: u64, ttl_secs: u64, cfg: &AuthConfig) -> Claims {
    Claims {
        sub: user.to_owned(),
        exp: now_secs + ttl_secs,
        nbf: None,
        iat: Some(now_secs),
        iss: (!cfg.issuer.is_empty()).then(|| cfg.issuer.clone()),
        aud: (!cfg.audience.is_empty()).then(|| serde_json::Value::String(cfg.audience.clone())),
        name: name.map(str::to_owned),
        picture: None,
        extra: serde_json::Map::new(),
    }
}

/// The set of algorithms a config accepts (for the startup log).
pub fn configured_algorithms(a: &Authenticator) -> HashSet<String> {
    a.keys.iter().map(|k| format!("{:?}", k.alg)).collect()
}
