//! End to end with the real `python-socketio` client against a real bridge and a real quipd.

use crate::common::{Env, setup_tools};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_connects_sends_receives_and_resumes() {
    setup_tools();
    let env = Env::start().await;
    let vars = [
        ("TOKEN_ALICE", env.token("alice")),
        ("TOKEN_BOB", env.token("bob")),
        ("TOKEN_EXPIRED", env.expired_token("alice")),
    ];
    let out = env.python("chat.py", &vars).await;
    assert!(out["expired"].as_str().unwrap().starts_with("TokenExpired"), "{out}");
    assert_eq!(out["sent"]["seq"], 1, "{out}");
    assert_eq!(out["received"], out["sent"]["id"], "{out}");
    assert_eq!(out["resumed"], true, "{out}");
    assert_eq!(out["missed"]["seq"], 2, "{out}");
    assert_eq!(out["missed"]["replay"], true, "{out}");
}
