//! Conformance mode against the behaviours of the official Socket.IO and Engine.IO protocol test suites
//! (socketio/socket.io-protocol and socketio/engine.io-protocol, `test-suite`), driven by a script with
//! the `ws` WebSocket client and fetch (js/conformance.mjs).

use std::time::Duration;

use crate::common;

#[tokio::test]
async fn conformance_mode_follows_the_protocol_suites() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(quip_bridge::conformance::serve(listener, async move {
        let _ = stopped.await;
    }));

    let out = common::node_script("conformance.mjs", &url, &[]).await;
    assert_eq!(out["badEio"], 400);
    // The first ping waits for pingInterval (300 ms from the server's handshake; the client starts its
    // clock later), over both transports: an early ping would come within a few milliseconds.
    let poll_ping = out["pollFirstPingMs"].as_u64().unwrap();
    let ws_ping = out["wsFirstPingMs"].as_u64().unwrap();
    assert!(poll_ping >= 150, "the first ping came {poll_ping} ms after the handshake (polling)");
    assert!(ws_ping >= 150, "the first ping came {ws_ping} ms after the handshake (WebSocket)");
    assert_eq!(out["echo"], r#"42["message-back",1,"2",{"3":[true]}]"#);
    assert_eq!(out["ack"], r#"43456[1,"2",{"3":[false]}]"#);
    assert_eq!(out["binary"][0], r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    assert_eq!(out["binary"][1], serde_json::json!([1, 2, 3]));
    assert_eq!(out["binary"][2], serde_json::json!([4, 5, 6]));
    assert_eq!(out["customAuth"], r#"42/custom,["auth",{"token":"abc"}]"#);
    assert_eq!(out["unknownNamespace"], r#"44/random,{"message":"Invalid namespace"}"#);
    assert_eq!(out["engineEcho"], "4hello");
    assert_eq!(out["engineBinary"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(out["enginePoll"], "4test1\u{1e}4test2");
    assert_eq!(out["probe"], "3probe");
    assert_eq!(out["upgraded"], "4upgraded");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
}
