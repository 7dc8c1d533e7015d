//! Bad input to the bridge over Socket.IO (npm `socket.io-client` and raw `ws` frames): every kind gets a
//! clear error code or closes only its own connection, and the bridge keeps serving everyone else.

use crate::common::Env;

#[tokio::test]
async fn bad_socketio_input_gets_errors_and_the_bridge_stays_up() {
    let env = Env::start_with(|cfg| cfg.rate_limits.bridge.messages_per_minute = 30).await;
    let tokens = [("TOKEN_ALICE", env.token("alice")), ("TOKEN_BOB", env.token("bob"))];
    let out = env.node("bad_input.mjs", &tokens).await;

    for case in ["stringPayload", "arrayPayload", "numberText", "badId", "missing", "unknown", "errorEvent"] {
        assert_eq!(out[case], "InvalidArgument", "{case}: {out}");
    }
    assert!(out["notMember"] == "NotFound" || out["notMember"] == "Forbidden", "{out}");
    assert_eq!(out["longText"], "PayloadTooLarge");
    let flood = &out["flood"];
    assert!(flood["limited"].as_u64().unwrap() > 0, "a flood was not limited: {flood}");
    assert!(flood["accepted"].as_u64().unwrap() <= 30, "{flood}");
    assert!(flood["retryAfter"].as_u64().unwrap() >= 1, "{flood}");
    assert_eq!(out["oversized"], "transport close", "{out}");
    for (case, result) in out["malformed"].as_object().unwrap() {
        assert_eq!(result, "closed", "malformed packet {case} did not close its connection");
    }
    // Only the accepted flood messages were stored, each once.
    assert_eq!(out["stored"], flood["accepted"]);

    // REST is still served after all that.
    let me = env.http("GET", "/api/v1/me", Some(&env.token("alice")), None).await;
    assert_eq!(me.status, 200);
}
