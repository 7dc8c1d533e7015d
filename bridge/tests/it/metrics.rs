//! quipd and the bridge under traffic (Socket.IO clients from npm, REST calls): both `/metrics` are
//! scraped and parsed with the reference Prometheus parser (Python `prometheus_client`), and the counters
//! match the traffic. The recorder is process-wide, so the test drives the real `quipd` and `quip-bridge`
//! binaries (a process each, `common::processes`): no other test's traffic reaches their counters.

use std::net::SocketAddr;

use crate::common::{self, processes::Processes};
use serde_json::Value;

const MESSAGES: usize = 7;

/// Every sample of a scrape: name, labels, value.
struct Samples(Vec<Value>);

impl Samples {
    /// The value of the sample `name` whose labels include `labels` (absent: 0).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|s| s["name"] == name)
            .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
            .map(|s| s["value"].as_f64().unwrap())
            .sum()
    }

    fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
    }

    fn labels(&self, name: &str, label: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|s| s["name"] == name)
            .filter_map(|s| s["labels"][label].as_str().map(str::to_owned))
            .collect()
    }
}

async fn scrape(addr: SocketAddr) -> String {
    let response = common::http(addr, "GET", "/metrics", None, None).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(response.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text
}

/// Parses each text with prometheus_client (the script fails on text it cannot parse).
async fn parse(env: &Processes, texts: &[&str]) -> Vec<Samples> {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let path = dir.path().join(format!("scrape-{i}.prom"));
        std::fs::write(&path, text).unwrap();
        paths.push(path.to_str().unwrap().to_owned());
    }
    let parsed = common::python_args("parse_metrics.py", &env.url(), &paths).await;
    paths.iter().map(|p| Samples(parsed[p].as_array().unwrap().clone())).collect()
}

#[tokio::test]
async fn both_scrapes_parse_and_count_the_traffic() {
    let env = Processes::start().await;
    let alice = env.token("alice");

    // REST: three listings, one without a token, one unknown route.
    for _ in 0..3 {
        assert_eq!(env.http("GET", "/api/v1/conversations", Some(&alice), None).await.status, 200);
    }
    assert_eq!(env.http("GET", "/api/v1/conversations", None, None).await.status, 401);
    assert_eq!(env.http("GET", "/api/v1/no/such/route", Some(&alice), None).await.status, 404);

    // Socket.IO: two users, MESSAGES sends received by the other, one bad token, one unknown event.
    let metrics_url = format!("http://{}/metrics", env.bridge_admin_addr);
    let quipd_metrics_url = format!("http://{}/metrics", env.quipd_admin_addr);
    let vars = [
        ("TOKEN_ALICE", alice.clone()),
        ("TOKEN_BOB", env.token("bob")),
        ("MESSAGES", MESSAGES.to_string()),
        ("METRICS_URL", metrics_url),
        ("QUIPD_METRICS_URL", quipd_metrics_url),
    ];
    let run = common::node_script("metrics.mjs", &env.url(), &vars).await;
    assert_eq!(run["received"], MESSAGES);
    assert!(run["refused"].as_str().unwrap().starts_with("TokenInvalid"), "{}", run["refused"]);

    let sockets_gone = common::until(|| async {
        let text = scrape(env.bridge_admin_addr).await;
        text.lines().filter(|l| l.starts_with("quip_bridge_sockets{")).all(|l| l.ends_with(" 0"))
    });
    assert!(sockets_gone.await, "the bridge still counts open sockets");
    let bridge_text = scrape(env.bridge_admin_addr).await;
    let quipd_text = scrape(env.quipd_admin_addr).await;
    let texts = [run["live"].as_str().unwrap(), run["liveQuipd"].as_str().unwrap(), &bridge_text, &quipd_text];
    let [live, live_quipd, bridge, quipd] = <[Samples; 4]>::try_from(parse(&env, &texts).await).ok().unwrap();

    // While both sockets were up.
    assert_eq!(live.get("quip_bridge_sockets", &[("transport", "websocket")]), 2.0);
    assert_eq!(live_quipd.get("quip_sessions", &[("transport", "gateway")]), 3.0, "two sockets and one REST caller");

    // The bridge counted every event and request.
    let n = MESSAGES as f64;
    assert_eq!(bridge.get("quip_bridge_socket_connects_total", &[("result", "ok")]), 2.0);
    assert_eq!(bridge.get("quip_bridge_socket_connects_total", &[("result", "TokenInvalid")]), 1.0);
    assert_eq!(bridge.get("quip_bridge_socket_events_in_total", &[("op", "message:send")]), n);
    assert_eq!(bridge.get("quip_bridge_socket_events_in_total", &[("op", "conversation:openDirect")]), 1.0);
    assert_eq!(bridge.get("quip_bridge_socket_events_in_total", &[("op", "unknown")]), 1.0);
    assert!(bridge.get("quip_bridge_socket_events_out_total", &[]) >= n, "Bob's message:new events");
    let listing = [("route", "/api/v1/conversations"), ("method", "GET")];
    assert_eq!(bridge.get("quip_bridge_rest_requests_total", &[listing[0], listing[1], ("status", "200")]), 3.0);
    assert_eq!(bridge.get("quip_bridge_rest_requests_total", &[listing[0], listing[1], ("status", "401")]), 1.0);
    assert_eq!(bridge.get("quip_bridge_rest_requests_total", &[("status", "404")]), 1.0);
    assert_eq!(bridge.get("quip_bridge_rest_request_seconds_count", &[listing[0]]), 4.0);
    assert_eq!(bridge.get("quip_bridge_errors_total", &[("code", "Unauthenticated")]), 1.0, "the REST 401");
    assert_eq!(bridge.get("quip_bridge_errors_total", &[("code", "InvalidArgument")]), 1.0, "the unknown event");
    assert_eq!(bridge.get("quip_bridge_sockets", &[]), 0.0);
    // Bounded labels: route templates, never a concrete id or the client's event name.
    for route in bridge.labels("quip_bridge_rest_requests_total", "route") {
        assert!(route == "unmatched" || route.starts_with("/api/"), "route label {route:?}");
    }
    assert!(!bridge.labels("quip_bridge_socket_events_in_total", "op").iter().any(|op| op == "no:such:event"));

    // quipd saw the same traffic through the bridge's gateway sessions.
    assert_eq!(quipd.get("quip_messages_stored_total", &[]), n);
    assert_eq!(quipd.get("quip_frames_in_total", &[("type", "SendMessage")]), n);
    assert!(quipd.get("quip_deliveries_total", &[]) >= n, "Bob's live deliveries");
    assert_eq!(quipd.get("quip_authentications_total", &[("result", "ok")]), 3.0);
    assert_eq!(quipd.get("quip_authentications_total", &[("result", "refused")]), 1.0);
    assert_eq!(quipd.get("quip_send_ack_seconds_count", &[]), n);
    assert!(quipd.get("quip_store_write_seconds_count", &[]) >= 1.0);
    assert_eq!(quipd.get("quip_fanout_sessions_count", &[]), n);
    assert_eq!(quipd.get("quip_fanout_sessions_bucket", &[("le", "0.0")]), 0.0, "count buckets, not seconds");
    assert!(quipd.names().iter().all(|name| name.starts_with("quip_")));
    for family in ["quip_sessions", "quip_connections_total", "quip_online_users"] {
        assert!(quipd.names().iter().any(|name| name == family), "{family} missing from quipd's scrape");
    }
    env.stop().await;
}
