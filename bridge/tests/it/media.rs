//! Media through the bridge, real quipd behind it: multipart upload checked on the bytes, stored on disk,
//! served back through signed URLs that expire; a message carrying the upload reaches the other member
//! with a working URL; Jivbook's own `send-media` route through its dialect.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::{self, Env, Response};
use quip_bridge::config::DialectListenerConfig;
use serde_json::{Value, json};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// One part of a form: field name, file name (a file part) and bytes.
struct Part<'a>(&'a str, Option<&'a str>, &'a [u8]);

/// A multipart/form-data POST built by hand; `auth` is the Authorization header's value.
async fn post_form(addr: SocketAddr, path: &str, auth: Option<&str>, parts: &[Part<'_>]) -> Response {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let boundary = "quip-test-boundary-7d3f";
    let mut body = Vec::new();
    for Part(name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes())
            }
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let client: Client<_, Full<hyper::body::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = hyper::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"));
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let req = req.body(Full::new(hyper::body::Bytes::from(body))).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(20), client.request(req)).await.unwrap().unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Response { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

async fn start() -> Env {
    Env::with_bridge(|cfg| {
        cfg.media.max_bytes = 4096;
        cfg.dialects = vec![DialectListenerConfig {
            name: "jivbook".into(),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            mount: String::new(),
        }];
    })
    .await
}

#[tokio::test]
async fn uploads_are_checked_stored_and_served_through_signed_urls() {
    let env = start().await;
    let alice = env.token("alice");
    let bearer = format!("Bearer {alice}");

    // Upload a PNG (named .bin: the bytes decide).
    let up = post_form(env.bridge_addr, "/api/v1/media", Some(&bearer), &[Part("file", Some("photo.bin"), PNG)]).await;
    assert_eq!(up.status, 201, "{}", up.text);
    let data = &up.body["data"];
    assert_eq!(data["kind"], "image");
    assert_eq!(data["mime"], "image/png");
    assert_eq!(data["size"], PNG.len());
    assert_eq!(data["name"], "photo.bin");
    let url = data["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/media/") && url.contains("sig="), "{url}");

    // Fetch it back: bytes, type, headers.
    let got = common::http(env.bridge_addr, "GET", &url, None, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["content-type"], "image/png");
    assert_eq!(got.headers["x-content-type-options"], "nosniff");
    assert_eq!(got.text.as_bytes(), String::from_utf8_lossy(PNG).as_bytes());

    // A tampered or missing signature, another id, an expired URL: refused.
    let (path, query) = url.split_once('?').unwrap();
    let exp: u64 = query.split('&').find_map(|kv| kv.strip_prefix("exp=")).unwrap().parse().unwrap();
    let sig = query.split('&').find_map(|kv| kv.strip_prefix("sig=")).unwrap();
    let tampered = format!("{path}?exp={}&sig={sig}", exp + 3600);
    assert_eq!(common::http(env.bridge_addr, "GET", &tampered, None, None).await.status, 403);
    assert_eq!(common::http(env.bridge_addr, "GET", path, None, None).await.status, 403);
    let other = format!("/media/{}?{query}", "0".repeat(64));
    assert_eq!(common::http(env.bridge_addr, "GET", &other, None, None).await.status, 403);
    let expired = common::http(env.bridge_addr, "GET", &format!("{path}?exp=1&sig={sig}"), None, None).await;
    assert_eq!(expired.status, 403);

    // Refusals: HTML named .png (415), too big (413), no file (400), no token (401), a bad token (401).
    let html = b"<html><script>alert(1)</script></html>";
    let r = post_form(env.bridge_addr, "/api/v1/media", Some(&bearer), &[Part("file", Some("cat.png"), html)]).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (415, Some("AttachmentNotAllowed")), "{}", r.text);
    let mut big = PNG.to_vec();
    big.resize(5000, 0);
    let r = post_form(env.bridge_addr, "/api/v1/media", Some(&bearer), &[Part("file", Some("big.png"), &big)]).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (413, Some("PayloadTooLarge")), "{}", r.text);
    let r = post_form(env.bridge_addr, "/api/v1/media", Some(&bearer), &[Part("caption", None, b"hi")]).await;
    assert_eq!(r.status, 400);
    let r = post_form(env.bridge_addr, "/api/v1/media", None, &[Part("file", Some("a.png"), PNG)]).await;
    assert_eq!(r.status, 401);
    let r = post_form(env.bridge_addr, "/api/v1/media", Some("Bearer nope"), &[Part("file", Some("a.png"), PNG)]).await;
    assert_eq!(r.status, 401);

    // Send it: Bob reads the message and gets a freshly signed URL that works.
    let opened = env.http("POST", "/api/v1/conversations", Some(&alice), Some(&json!({"peerUserId": "bob"}))).await;
    let conv = opened.body["data"]["conversation"]["id"].as_u64().unwrap();
    let sent = env
        .http(
            "POST",
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&alice),
            Some(&json!({"attachments": [data]})),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    let page = env.http("GET", &format!("/api/v1/conversations/{conv}/messages"), Some(&env.token("bob")), None).await;
    let seen = page.body["data"][0]["attachments"][0].clone();
    assert_eq!(seen["kind"], "image");
    let bob_url = seen["url"].as_str().unwrap();
    assert!(bob_url.starts_with(path) && bob_url.contains("sig="), "{bob_url}");
    assert_eq!(common::http(env.bridge_addr, "GET", bob_url, None, None).await.status, 200);

    // The media is Alice's: Carol, who learnt its URL, may not attach it (by its stable path or the
    // signed URL), and a message she gets into quipd some other way shows it unsigned (so it serves
    // nothing) to whoever reads it.
    let carol = env.token("carol");
    let opened = env.http("POST", "/api/v1/conversations", Some(&carol), Some(&json!({"peerUserId": "dave"}))).await;
    let carols = opened.body["data"]["conversation"]["id"].as_u64().unwrap();
    for stolen in [path, bob_url] {
        let attach = json!({"attachments": [{"kind": "image", "url": stolen}]});
        let r =
            env.http("POST", &format!("/api/v1/conversations/{carols}/messages"), Some(&carol), Some(&attach)).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (403, Some("Forbidden")), "{}", r.text);
    }
    let native = env.native("carol").await;
    let smuggled = quip_sdk::SendMessage {
        conversation_id: carols,
        kind: quip_sdk::protocol::family::messages::MessageKind::Image,
        attachments: vec![quip_sdk::protocol::family::messages::Attachment {
            kind: quip_sdk::protocol::family::messages::AttachmentKind::Image,
            url: path.to_owned(),
            ..Default::default()
        }],
        ..Default::default()
    };
    native.send(smuggled).await.unwrap();
    let page =
        env.http("GET", &format!("/api/v1/conversations/{carols}/messages"), Some(&env.token("dave")), None).await;
    let shown = page.body["data"][0]["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(shown, path, "someone else's media is shown unsigned");
    assert_eq!(common::http(env.bridge_addr, "GET", &shown, None, None).await.status, 403);

    // Only the PNG is on disk (and its metadata): refused uploads left nothing behind.
    let media_dir = env.media_dir();
    assert_eq!(std::fs::read_dir(media_dir).unwrap().count(), 2);
}

#[tokio::test]
async fn jivbook_send_media_stores_the_file_and_sends_the_message() {
    let env = start().await;
    let a = format!("Bearer {}", env.token("alice"));
    let jivbook: SocketAddr = env.dialect_url("jivbook").trim_start_matches("http://").parse().unwrap();
    let chat = common::http(jivbook, "POST", "/api/chat/create", None, Some(&json!({"participantId": "bob"}))).await;
    assert_eq!(chat.status, 401);
    let token = env.token("alice");
    let chat =
        common::http(jivbook, "POST", "/api/chat/create", Some(&token), Some(&json!({"participantId": "bob"}))).await;
    let chat_id =
        chat.body["data"]["_id"].as_str().map(str::to_owned).unwrap_or_else(|| chat.body["data"]["_id"].to_string());

    // Seed 001 §5: multipart with `media` (the file) and `content` (the caption).
    let path = format!("/api/chat/{chat_id}/send-media");
    let sent = post_form(
        jivbook,
        &path,
        Some(&a),
        &[Part("content", None, b"look at this"), Part("media", Some("dog.png"), PNG)],
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(sent.body["success"], true);
    assert_eq!(sent.body["message"], "Media message sent successfully");
    let media_url = sent.body["data"]["mediaUrl"].as_str().unwrap();
    assert!(media_url.starts_with("/media/"), "{}", sent.text);
    assert_eq!(sent.body["data"]["content"], "look at this");
    let got = common::http(env.bridge_addr, "GET", media_url, None, None).await;
    assert_eq!((got.status, got.headers["content-type"].to_str().unwrap()), (200, "image/png"));

    // A file on a route that takes none is refused; a non-image is refused by type.
    let text_route = format!("/api/chat/{chat_id}/send");
    let r =
        post_form(jivbook, &text_route, Some(&a), &[Part("content", None, b"x"), Part("media", Some("dog.png"), PNG)])
            .await;
    assert_eq!(r.status, 415, "{}", r.text);
    let r = post_form(jivbook, &path, Some(&a), &[Part("media", Some("dog.png"), b"MZ\x90\0 an exe")]).await;
    assert_eq!(r.status, 415, "{}", r.text);
}
