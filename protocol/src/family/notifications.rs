//! The per-user notification feed: paging, marking read, and live events.

use flatbuffers::WIPOffset;

use super::common::{KeyValue, dec_fields, enc_fields};
use crate::convert::{Fbb, enc_str, enc_table_list, enc_u64_list, max, req_str, str_or_empty, table_list, u64_list};
use crate::{DecodeError, fb};

/// One notification in the user's feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notification {
    pub id: u64,
    /// App-defined type: "order", "new_chat", "message", ...
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    /// App-defined data.
    pub data: Vec<KeyValue>,
    pub created_at_ms: u64,
    /// 0: unread.
    pub read_at_ms: u64,
}

impl Notification {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::Notification<'b>> {
        let kind = Some(fbb.create_string(&self.kind));
        let title = enc_str(fbb, &self.title);
        let body = enc_str(fbb, &self.body);
        let link = enc_str(fbb, &self.link);
        let data = enc_fields(fbb, &self.data);
        fb::Notification::create(
            fbb,
            &fb::NotificationArgs {
                id: self.id,
                kind,
                title,
                body,
                link,
                data,
                created_at_ms: self.created_at_ms,
                read_at_ms: self.read_at_ms,
            },
        )
    }

    pub(crate) fn decode(t: fb::Notification<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: t.id(),
            kind: req_str(t.kind(), "Notification", "kind", max::SHORT)?,
            title: str_or_empty(t.title(), "Notification", "title", max::SHORT)?,
            body: str_or_empty(t.body(), "Notification", "body", max::TEXT)?,
            link: str_or_empty(t.link(), "Notification", "link", max::URL)?,
            data: dec_fields(t.data(), "Notification", "data")?,
            created_at_ms: t.created_at_ms(),
            read_at_ms: t.read_at_ms(),
        })
    }
}

/// A page of notifications, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListNotifications {
    /// 0 starts at the newest.
    pub before_id: u64,
    pub limit: u32,
    pub unread_only: bool,
}

impl Default for ListNotifications {
    /// As the schema: the newest 50.
    fn default() -> Self {
        Self { before_id: 0, limit: 50, unread_only: false }
    }
}

impl ListNotifications {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ListNotifications<'b>> {
        fb::ListNotifications::create(
            fbb,
            &fb::ListNotificationsArgs { before_id: self.before_id, limit: self.limit, unread_only: self.unread_only },
        )
    }

    pub(crate) fn decode(t: fb::ListNotifications<'_>) -> Result<Self, DecodeError> {
        Ok(Self { before_id: t.before_id(), limit: t.limit(), unread_only: t.unread_only() })
    }
}

/// The answer to ListNotifications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    /// Pass as `before_id` for the next page; 0 on the last page.
    pub next_before_id: u64,
    pub unread_total: u32,
}

impl NotificationPage {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::NotificationPage<'b>> {
        let notifications = enc_table_list(fbb, &self.notifications, |n, fbb| n.encode(fbb));
        fb::NotificationPage::create(
            fbb,
            &fb::NotificationPageArgs {
                notifications,
                next_before_id: self.next_before_id,
                unread_total: self.unread_total,
            },
        )
    }

    pub(crate) fn decode(t: fb::NotificationPage<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            notifications: table_list(
                t.notifications(),
                "NotificationPage",
                "notifications",
                max::LIST,
                Notification::decode,
            )?,
            next_before_id: t.next_before_id(),
            unread_total: t.unread_total(),
        })
    }
}

/// Mark the listed notifications read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkNotificationsRead {
    pub ids: Vec<u64>,
}

impl MarkNotificationsRead {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MarkNotificationsRead<'b>> {
        let ids = Some(fbb.create_vector(&self.ids));
        fb::MarkNotificationsRead::create(fbb, &fb::MarkNotificationsReadArgs { ids })
    }

    pub(crate) fn decode(t: fb::MarkNotificationsRead<'_>) -> Result<Self, DecodeError> {
        Ok(Self { ids: u64_list(Some(t.ids()), "MarkNotificationsRead", "ids")? })
    }
}

/// Mark every notification of the user read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkAllNotificationsRead;

impl MarkAllNotificationsRead {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::MarkAllNotificationsRead<'b>> {
        fb::MarkAllNotificationsRead::create(fbb, &fb::MarkAllNotificationsReadArgs {})
    }

    pub(crate) fn decode(_: fb::MarkAllNotificationsRead<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
}

/// A new notification for the user, on every device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationEvent {
    pub notification: Notification,
    pub unread_total: u32,
}

impl NotificationEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::NotificationEvent<'b>> {
        let notification = Some(self.notification.encode(fbb));
        fb::NotificationEvent::create(fbb, &fb::NotificationEventArgs { notification, unread_total: self.unread_total })
    }

    pub(crate) fn decode(t: fb::NotificationEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self { notification: Notification::decode(t.notification())?, unread_total: t.unread_total() })
    }
}

/// Notifications were read on one of the user's devices (the listed ones, or `all`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationsReadEvent {
    pub ids: Vec<u64>,
    pub all: bool,
    pub unread_total: u32,
}

impl NotificationsReadEvent {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::NotificationsReadEvent<'b>> {
        let ids = enc_u64_list(fbb, &self.ids);
        fb::NotificationsReadEvent::create(
            fbb,
            &fb::NotificationsReadEventArgs { ids, all: self.all, unread_total: self.unread_total },
        )
    }

    pub(crate) fn decode(t: fb::NotificationsReadEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ids: u64_list(t.ids(), "NotificationsReadEvent", "ids")?,
            all: t.all(),
            unread_total: t.unread_total(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{roundtrip_client, roundtrip_server};
    use crate::{ClientBody, Limits, ServerBody, ServerFrame};

    fn notification() -> Notification {
        Notification {
            id: 31,
            kind: "order".into(),
            title: "Order shipped".into(),
            body: "Your order #1234 is on its way.".into(),
            link: "https://shop.example/orders/1234".into(),
            data: vec![KeyValue::new("order_id", "1234"), KeyValue::new("carrier", "")],
            created_at_ms: 1_700_000_000_000,
            read_at_ms: 0,
        }
    }

    fn decode_server(body: impl Into<ServerBody>) -> Result<ServerFrame, DecodeError> {
        ServerFrame::decode(&ServerFrame::new(0, body).encode(), &Limits::default())
    }

    #[test]
    fn client_frames_round_trip() {
        roundtrip_client(ClientBody::ListNotifications(ListNotifications {
            before_id: 31,
            limit: 20,
            unread_only: true,
        }));
        roundtrip_client(ClientBody::ListNotifications(ListNotifications {
            before_id: 0,
            limit: 0,
            unread_only: false,
        }));
        roundtrip_client(ClientBody::ListNotifications(ListNotifications::default()));
        roundtrip_client(ClientBody::MarkNotificationsRead(MarkNotificationsRead { ids: vec![31, 30, 7] }));
        roundtrip_client(ClientBody::MarkNotificationsRead(MarkNotificationsRead::default()));
        roundtrip_client(ClientBody::MarkAllNotificationsRead(MarkAllNotificationsRead));
    }

    #[test]
    fn server_frames_round_trip() {
        roundtrip_server(ServerBody::NotificationPage(NotificationPage {
            notifications: vec![
                notification(),
                Notification { id: 30, kind: "new_chat".into(), read_at_ms: 5, ..Notification::default() },
            ],
            next_before_id: 30,
            unread_total: 1,
        }));
        roundtrip_server(ServerBody::NotificationPage(NotificationPage::default()));
        roundtrip_server(ServerBody::NotificationEvent(NotificationEvent {
            notification: notification(),
            unread_total: 4,
        }));
        roundtrip_server(ServerBody::NotificationEvent(NotificationEvent {
            notification: Notification { kind: "k".into(), ..Notification::default() },
            unread_total: 0,
        }));
        roundtrip_server(ServerBody::NotificationsReadEvent(NotificationsReadEvent {
            ids: vec![31, 30],
            all: false,
            unread_total: 2,
        }));
        roundtrip_server(ServerBody::NotificationsReadEvent(NotificationsReadEvent {
            ids: vec![],
            all: true,
            unread_total: 0,
        }));
        roundtrip_server(ServerBody::NotificationsReadEvent(NotificationsReadEvent::default()));
    }

    #[test]
    fn bad_fields_are_rejected() {
        let err = decode_server(NotificationEvent::default()).unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "Notification", field: "kind" });

        let title = "t".repeat(max::SHORT + 1);
        let err = decode_server(NotificationEvent {
            notification: Notification { title, ..notification() },
            unread_total: 1,
        })
        .unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "Notification", field: "title", len: 257, max: 256 });

        let data = (0..=max::FIELDS).map(|i| KeyValue::new(format!("k{i}"), "v")).collect();
        let page = NotificationPage {
            notifications: vec![Notification { data, ..notification() }],
            ..NotificationPage::default()
        };
        let err = decode_server(page).unwrap_err();
        assert_eq!(err, DecodeError::TooLong { table: "Notification", field: "data", len: 65, max: 64 });

        let data = vec![KeyValue::new("", "v")];
        let err =
            decode_server(NotificationEvent { notification: Notification { data, ..notification() }, unread_total: 1 })
                .unwrap_err();
        assert_eq!(err, DecodeError::MissingField { table: "KeyValue", field: "key" });
    }
}
