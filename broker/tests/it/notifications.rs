//! The notification feed: created by the admin API (as the seeds' apps do for orders and new chats),
//! delivered live to every device, paged newest first, read one by one or all at once with the change
//! synced to the user's other devices.

use std::time::Duration;

use crate::common::{RawClient, TestBroker, login};
use quip_protocol::ServerBody;
use quip_protocol::family::notifications::{ListNotifications, MarkAllNotificationsRead, MarkNotificationsRead};

async fn notify(broker: &TestBroker, user: &str, title: &str) -> u64 {
    let body = format!(
        r#"{{"user_id":"{user}","type":"order","title":"{title}","body":"details","link":"/orders/1","data":{{"orderId":"1"}}}}"#
    );
    let (status, reply) = broker.admin_call("POST", "/v1/notifications", Some(&broker.admin_token), &body).await;
    assert_eq!(status, 201, "{reply}");
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
    v["data"]["id"].as_u64().unwrap()
}

async fn next_notification_event(c: &mut RawClient) -> ServerBody {
    loop {
        match c.event_within(Duration::from_secs(10)).await.expect("no event") {
            e @ (ServerBody::NotificationEvent(_) | ServerBody::NotificationsReadEvent(_)) => return e,
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_notifications_reach_every_device_and_reads_sync() {
    let broker = TestBroker::start().await;
    let mut phone = login(&broker, "alice", "phone").await;
    let mut laptop = login(&broker, "alice", "laptop").await;
    let mut bob = login(&broker, "bob", "phone").await;

    let first = notify(&broker, "alice", "Order placed").await;
    for device in [&mut phone, &mut laptop] {
        let ServerBody::NotificationEvent(ev) = next_notification_event(device).await else { panic!() };
        assert_eq!((ev.notification.id, ev.notification.kind.as_str(), ev.unread_total), (first, "order", 1));
        assert_eq!(ev.notification.title, "Order placed");
        assert_eq!(ev.notification.data[0].key, "orderId");
    }
    assert!(bob.event_within(Duration::from_millis(300)).await.is_none(), "bob got alice's notification");

    let second = notify(&broker, "alice", "Order shipped").await;
    let third = notify(&broker, "alice", "Order delivered").await;
    for _ in 0..2 {
        next_notification_event(&mut laptop).await;
    }

    // Paging, newest first.
    let ServerBody::NotificationPage(page) =
        phone.call(ListNotifications { before_id: 0, limit: 2, unread_only: false }).await
    else {
        panic!()
    };
    assert_eq!(page.notifications.iter().map(|n| n.id).collect::<Vec<_>>(), [third, second]);
    assert_eq!(page.unread_total, 3);
    let ServerBody::NotificationPage(rest) =
        phone.call(ListNotifications { before_id: page.next_before_id, limit: 2, unread_only: false }).await
    else {
        panic!()
    };
    assert_eq!(rest.notifications.iter().map(|n| n.id).collect::<Vec<_>>(), [first]);
    assert_eq!(rest.next_before_id, 0);

    // One read on the phone: the laptop hears of it.
    assert!(matches!(phone.call(MarkNotificationsRead { ids: vec![second] }).await, ServerBody::Done(_)));
    let ServerBody::NotificationsReadEvent(ev) = next_notification_event(&mut laptop).await else { panic!() };
    assert_eq!((ev.ids.as_slice(), ev.all, ev.unread_total), ([second].as_slice(), false, 2));

    // Read all on the laptop: the phone hears of it; nothing unread is left.
    assert!(matches!(laptop.call(MarkAllNotificationsRead).await, ServerBody::Done(_)));
    loop {
        if let ServerBody::NotificationsReadEvent(ev) = next_notification_event(&mut phone).await {
            if ev.all {
                assert_eq!(ev.unread_total, 0);
                break;
            }
        }
    }
    let ServerBody::NotificationPage(unread) =
        phone.call(ListNotifications { before_id: 0, limit: 10, unread_only: true }).await
    else {
        panic!()
    };
    assert!(unread.notifications.is_empty());
    assert_eq!(unread.unread_total, 0);

    // The feed survives a restart.
    drop((phone, laptop, bob));
    let broker = broker.restart().await;
    let mut phone = login(&broker, "alice", "phone").await;
    let ServerBody::NotificationPage(all) =
        phone.call(ListNotifications { before_id: 0, limit: 10, unread_only: false }).await
    else {
        panic!()
    };
    assert_eq!(all.notifications.len(), 3);
    assert!(all.notifications.iter().all(|n| n.read_at_ms > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_requires_its_token_and_valid_json() {
    let broker = TestBroker::start().await;
    let body = r#"{"user_id":"alice","type":"order"}"#;
    let (status, _) = broker.admin_call("POST", "/v1/notifications", None, body).await;
    assert_eq!(status, 401);
    let (status, _) = broker.admin_call("POST", "/v1/notifications", Some("not-the-token"), body).await;
    assert_eq!(status, 401);
    let (status, reply) = broker.admin_call("POST", "/v1/notifications", Some(&broker.admin_token), "{not json").await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply.contains("InvalidArgument"));
    let (status, _) =
        broker.admin_call("POST", "/v1/notifications", Some(&broker.admin_token), r#"{"user_id":"","type":"x"}"#).await;
    assert_eq!(status, 400);
    let (status, _) = broker.admin_call("GET", "/healthz", None, "").await;
    assert_eq!(status, 200);
    let (status, _) = broker.admin_call("GET", "/readyz", None, "").await;
    assert_eq!(status, 200);
}
