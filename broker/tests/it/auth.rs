//! Tokens: every way a token can be wrong is refused with its own code, and the connection closes.

use crate::common;

use crate::common::{RawClient, TestBroker};
use base64::Engine;
use quip_broker::auth::{Claims, dev_claims};
use quip_protocol::ErrorCode;

fn now() -> u64 {
    quip_broker::now_ms() / 1000
}

async fn refused(broker: &TestBroker, token: &str) -> ErrorCode {
    let mut c = RawClient::connect(broker).await;
    let err = c.hello(token, "phone", None).await.expect_err("token must be refused");
    // The connection is closed after the refusal.
    let closed = tokio::time::timeout(common::WAIT, c.conn.closed()).await;
    assert!(closed.is_ok(), "connection stays open after a refused token");
    err.code
}

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_is_welcomed_with_its_profile() {
    let broker = TestBroker::start().await;
    let mut c = RawClient::connect(&broker).await;
    let welcome = c.hello(&broker.token("alice"), "phone", None).await.unwrap();
    assert_eq!(welcome.user.id, "alice");
    assert_eq!(welcome.user.display_name.as_deref(), Some("ALICE"));
    assert!(welcome.token_expires_at_ms > quip_broker::now_ms());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_with_their_codes() {
    let broker = TestBroker::start().await;
    let cfg = broker.config.auth.clone();

    assert_eq!(refused(&broker, "not-a-jwt").await, ErrorCode::TokenInvalid);

    let expired = broker.token_with(&dev_claims("alice", None, now() - 7200, 60, &cfg));
    assert_eq!(refused(&broker, &expired).await, ErrorCode::TokenExpired);

    let mut early = dev_claims("alice", None, now(), 3600, &cfg);
    early.nbf = Some(now() + 3600);
    assert_eq!(refused(&broker, &broker.token_with(&early)).await, ErrorCode::TokenNotYetValid);

    // Signed with another secret.
    let other = quip_broker::auth::Authenticator::new(&cfg, Some(b"another-secret-another-secret-xx")).unwrap();
    let forged = other.mint(&dev_claims("alice", None, now(), 3600, &cfg)).unwrap();
    assert_eq!(refused(&broker, &forged).await, ErrorCode::TokenInvalid);

    // alg: none, unsigned.
    let claims = serde_json::to_value(dev_claims("alice", None, now(), 3600, &cfg)).unwrap();
    let none = format!("{}.{}.", b64(&serde_json::json!({"alg": "none", "typ": "JWT"})), b64(&claims));
    assert_eq!(refused(&broker, &none).await, ErrorCode::AlgorithmNotAllowed);

    // An algorithm the server has no key for (RS256 "signed" with the HMAC secret: confusion).
    let rs = format!("{}.{}.c2ln", b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})), b64(&claims));
    assert_eq!(refused(&broker, &rs).await, ErrorCode::AlgorithmNotAllowed);

    // No subject.
    let mut nosub: Claims = dev_claims("alice", None, now(), 3600, &cfg);
    nosub.sub = String::new();
    assert_eq!(refused(&broker, &broker.token_with(&nosub)).await, ErrorCode::TokenInvalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audience_and_issuer_are_enforced_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.auth.audience = "quip".into();
    cfg.auth.issuer = "https://auth.example".into();
    let broker = TestBroker::start_with(cfg.clone()).await;

    let good = broker.token("alice");
    let mut c = RawClient::connect(&broker).await;
    assert!(c.hello(&good, "phone", None).await.is_ok());

    let mut wrong_aud = dev_claims("alice", None, now(), 3600, &cfg.auth);
    wrong_aud.aud = Some(serde_json::json!("someone-else"));
    assert_eq!(refused(&broker, &broker.token_with(&wrong_aud)).await, ErrorCode::WrongAudience);

    let mut wrong_iss = dev_claims("alice", None, now(), 3600, &cfg.auth);
    wrong_iss.iss = Some("https://evil.example".into());
    assert_eq!(refused(&broker, &broker.token_with(&wrong_iss)).await, ErrorCode::WrongIssuer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_token_must_name_the_same_user() {
    let broker = TestBroker::start().await;
    let mut c = RawClient::connect(&broker).await;
    c.hello(&broker.token("alice"), "phone", None).await.unwrap();
    let reply = c.call(quip_protocol::family::session::RefreshToken { token: broker.token("alice") }).await;
    assert!(matches!(reply, quip_protocol::ServerBody::TokenRefreshed(_)), "{reply:?}");
    let reply = c.call(quip_protocol::family::session::RefreshToken { token: broker.token("mallory") }).await;
    assert!(
        matches!(reply, quip_protocol::ServerBody::ErrorReply(ref e) if e.code == ErrorCode::Forbidden),
        "{reply:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_token_expires_is_told_and_closed() {
    let broker = TestBroker::start().await;
    let cfg = broker.config.auth.clone();
    let mut c = RawClient::connect(&broker).await;
    // Valid for two more seconds (leeway does not extend a live session).
    let token = broker.token_with(&dev_claims("alice", None, now(), 2, &cfg));
    c.hello(&token, "phone", None).await.unwrap();
    let mut saw_goodbye = false;
    while let Some(ev) = c.event_within(std::time::Duration::from_secs(8)).await {
        if let quip_protocol::ServerBody::Goodbye(g) = ev {
            assert_eq!(g.reason, quip_protocol::family::session::CloseReason::TokenExpired);
            saw_goodbye = true;
            break;
        }
    }
    assert!(saw_goodbye);
}

/// Tokens signed with an ES256 or EdDSA private key verify against the configured public key; an HS256
/// token whose HMAC key is that public key (algorithm confusion) does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_key_algorithms_verify_and_confusion_is_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let dir = tempfile::tempdir().unwrap();
    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let ec_pub = dir.path().join("ec.pub.pem");
    let ed_pub = dir.path().join("ed.pub.pem");
    std::fs::write(&ec_pub, ec.public_key_pem()).unwrap();
    std::fs::write(&ed_pub, ed.public_key_pem()).unwrap();
    let mut cfg = common::config(&dir.path().join("data"));
    cfg.auth.es256_public_key = ec_pub.display().to_string();
    cfg.auth.eddsa_public_key = ed_pub.display().to_string();
    let broker = TestBroker::start_with(cfg.clone()).await;
    let claims = dev_claims("alice", None, now(), 3600, &cfg.auth);

    let es = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_pem(ec.serialize_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    let mut c = RawClient::connect(&broker).await;
    assert_eq!(c.hello(&es, "phone", None).await.unwrap().user.id, "alice");

    let eddsa = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &claims,
        &EncodingKey::from_ed_pem(ed.serialize_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    let mut c = RawClient::connect(&broker).await;
    assert_eq!(c.hello(&eddsa, "phone", None).await.unwrap().user.id, "alice");

    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(ec.public_key_pem().as_bytes()),
    )
    .unwrap();
    assert_eq!(refused(&broker, &confused).await, ErrorCode::TokenInvalid);
}

/// Client-supplied identifiers reach quipd's log: one with a line break could forge whole log lines
/// (issue 18, "Log injection"), so it is refused at the edge and the refusal says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_with_control_characters_are_refused() {
    let broker = TestBroker::start().await;
    let cfg = broker.config.auth.clone();
    let forged = "alice\nINFO quipd::admin: admin: tokens revoked user=bob";
    let sub = dev_claims(forged, None, now(), 3600, &cfg);
    assert_eq!(refused(&broker, &broker.token_with(&sub)).await, ErrorCode::TokenInvalid);

    let mut c = RawClient::connect(&broker).await;
    let err = c.hello(&broker.token("alice"), "phone\r\nINFO session open", None).await.expect_err("refused");
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("device_id") && !err.message.contains('\n'), "{:?}", err.message);

    // An algorithm name with a line break is named in the refusal without it.
    let header = b64(&serde_json::json!({"alg": "HS\n256"}));
    let token = format!("{header}.{}.c2ln", b64(&serde_json::json!({"sub": "alice", "exp": now() + 60})));
    let mut c = RawClient::connect(&broker).await;
    let err = c.hello(&token, "phone", None).await.expect_err("refused");
    assert_eq!(err.code, ErrorCode::AlgorithmNotAllowed);
}
