//! The canonical vocabulary every dialect maps to and from: Socket.IO event names, operations (which REST
//! routes run too) and payload field names.
//!
//! **This list must match docs/BRIDGE.md** (the core's canonical Socket.IO events and REST API) and the
//! core's `crate::ops::OPERATIONS`; when one changes, change the other. The dialect tests check that every
//! shipped dialect only names what is listed here. Payloads are JSON objects with camelCase fields; ids are
//! numbers (numeric strings are accepted on the way in), user ids are strings, times are milliseconds
//! since the epoch. Server events carry the JSON forms of `crate::json` (a message, a conversation, ...).
//!
//! Entries marked **extension** are what the legacy dialects need beyond docs/BRIDGE.md as it stands; the
//! core is asked to add them (docs/DIALECTS.md, "What the core must add").

/// Client → server: requests. A client names one of these as the Socket.IO event; dialect REST routes
/// name one as their operation. The ack's `data` is given after the arrow.
pub mod op {
    /// `{peerUserId, context?: {kind, id, title?}}` → `{conversation, created}` (get or create).
    pub const CONVERSATION_OPEN_DIRECT: &str = "conversation:openDirect";
    /// `{title, memberIds, avatarUrl?, description?}` → `{conversation, created}`.
    pub const CONVERSATION_CREATE_GROUP: &str = "conversation:createGroup";
    /// `{conversationId}` → conversation.
    pub const CONVERSATION_GET: &str = "conversation:get";
    /// `{cursor?, limit?, includeArchived?}` → `{conversations, nextCursor}`.
    pub const CONVERSATION_LIST: &str = "conversation:list";
    /// Subscribe this socket to a conversation's room: `{conversationId}` → conversation. **Extension**:
    /// `{conversationIds: [...]}` joins several at once (KCS `join-chat-rooms`).
    pub const CONVERSATION_JOIN: &str = "conversation:join";
    /// Unsubscribe this socket from a conversation's room (not leaving it): `{conversationId}` → `{}`.
    pub const CONVERSATION_LEAVE: &str = "conversation:leave";
    /// Leave a group: `{conversationId}` → `{}`.
    pub const CONVERSATION_EXIT: &str = "conversation:exit";
    /// Hide a conversation for the caller: `{conversationId}` → `{}`.
    pub const CONVERSATION_HIDE: &str = "conversation:hide";
    /// **Extension**: block the other member of a direct conversation, or unblock them if blocked:
    /// `{conversationId}` → `{blocked}` (Jivbook `toggle-block`).
    pub const CONVERSATION_TOGGLE_BLOCK: &str = "conversation:toggleBlock";
    /// `{userId}` → `{}`.
    pub const USER_BLOCK: &str = "user:block";
    /// `{userId}` → `{}`.
    pub const USER_UNBLOCK: &str = "user:unblock";
    /// `{conversationId, text?, kind?, attachments?, replyTo?, clientMsgId?, metadata?}` → the stored
    /// message (`duplicate: true` for a retried `clientMsgId`). Without a `clientMsgId` the core makes one.
    pub const MESSAGE_SEND: &str = "message:send";
    /// `{messageId, text}` → `{}`.
    pub const MESSAGE_EDIT: &str = "message:edit";
    /// `{messageId, scope: "me" | "everyone"}` → `{}`.
    pub const MESSAGE_DELETE: &str = "message:delete";
    /// `{messageId, emoji, remove?}` → `{}`.
    pub const MESSAGE_REACT: &str = "message:react";
    /// `{messageId}` → message.
    pub const MESSAGE_GET: &str = "message:get";
    /// `{conversationId, before? | after? | cursor? + direction?, limit?}` → `{conversationId, messages
    /// (newest first backward), nextCursor, hasMore}`. **Extension**: `offset` skips that many of the newest
    /// messages (legacy skip/limit and page/limit paging), and `total` in the result.
    pub const MESSAGE_HISTORY: &str = "message:history";
    /// `{conversationId, upToSeq}` → `{}`.
    pub const MESSAGE_DELIVERED: &str = "message:delivered";
    /// `{conversationId, upToSeq? | messageIds?}`; neither: everything so far → `{}`.
    pub const MESSAGE_READ: &str = "message:read";
    /// `{conversationIds?}` → `{total, conversations: [{conversationId, unread}]}`.
    pub const UNREAD_GET: &str = "unread:get";
    /// `{conversationId}` → `{}`.
    pub const TYPING_START: &str = "typing:start";
    /// `{conversationId}` → `{}`.
    pub const TYPING_STOP: &str = "typing:stop";
    /// `{status: "online" | "away" | "busy" | "invisible"}` → `{}`.
    pub const PRESENCE_SET: &str = "presence:set";
    /// `{userIds}` → `[{userId, status, lastSeen, devices}]`.
    pub const PRESENCE_GET: &str = "presence:get";
    /// Online members of a conversation: `{conversationId}` → `[presence]`.
    pub const PRESENCE_ONLINE: &str = "presence:online";
    /// `{userIds, unwatch?}` → `[presence]`.
    pub const PRESENCE_WATCH: &str = "presence:watch";
    /// `{beforeId?, limit?, unreadOnly?}` → `{notifications, nextCursor, unreadTotal}`.
    pub const NOTIFICATION_LIST: &str = "notification:list";
    /// `{ids}` → `{}`.
    pub const NOTIFICATION_READ: &str = "notification:read";
    /// `{}` → `{}`.
    pub const NOTIFICATION_READ_ALL: &str = "notification:readAll";
    /// `{conversationId, callType: "audio" | "video", sdpOffer}` → call.
    pub const CALL_INVITE: &str = "call:invite";
    /// `{callId, sdpAnswer}` → call. **Extension**: `conversationId` instead of `callId` (legacy clients
    /// name the conversation): the call ringing or active in it.
    pub const CALL_ACCEPT: &str = "call:accept";
    /// `{callId, reason?}` → `{}` (**extension**: or `conversationId`).
    pub const CALL_REJECT: &str = "call:reject";
    /// `{callId, reason?}` → `{}` (**extension**: or `conversationId`).
    pub const CALL_END: &str = "call:end";
    /// `{callId, candidate, sdpMid?, sdpMLineIndex?}` → `{}` (**extension**: or `conversationId`).
    pub const CALL_ICE: &str = "call:ice";
    /// **Extension** (dialects only): nothing runs upstream; the route or event answers with its mapped
    /// response to an empty result (legacy routes Quip makes unnecessary, e.g. a client-written call record).
    pub const NOOP: &str = "noop";
}

/// Server → client: events the core emits (from quipd's events), payload described per constant.
pub mod event {
    /// The message (`crate::json::message`: `{id, conversationId, seq, sender: {id, displayName,
    /// avatarUrl}, kind, text, attachments, replyTo, clientMsgId, createdAt, editedAt, deleted, reactions,
    /// call, system, metadata}`) plus `replay`.
    pub const MESSAGE_NEW: &str = "message:new";
    /// `{conversationId, messageId, seq, text, editedAt}`.
    pub const MESSAGE_EDITED: &str = "message:edited";
    /// `{conversationId, messageId, seq, scope: "me" | "everyone", deletedBy, at}`.
    pub const MESSAGE_DELETED: &str = "message:deleted";
    /// `{conversationId, messageId, userId, emoji, removed, reactions}`.
    pub const MESSAGE_REACTION: &str = "message:reaction";
    /// `{conversationId, userId, kind: "delivered" | "read", upToSeq, at}`. **Extension**: `messageId`
    /// (the message at `upToSeq`) and `messageIds` (those that became read, when the core knows them), for
    /// legacy clients that name messages rather than seqs.
    pub const MESSAGE_RECEIPT: &str = "message:receipt";
    /// `{conversationId, unread, total}`: the caller's own counts changed.
    pub const UNREAD_UPDATED: &str = "unread:updated";
    /// `{change: "created" | "updated" | "membersAdded" | ..., conversation, actorId, userIds, at}`.
    pub const CONVERSATION_UPDATED: &str = "conversation:updated";
    /// `{conversationId, userId, expiresInMs}` (**extension**: `userName`).
    pub const TYPING_START: &str = "typing:start";
    /// `{conversationId, userId}` (**extension**: `userName`).
    pub const TYPING_STOP: &str = "typing:stop";
    /// `{userId, status: "online" | "away" | "busy" | "offline", lastSeen, devices}`.
    pub const PRESENCE_UPDATE: &str = "presence:update";
    /// `{notification: {id, kind, title, body, link, data, createdAt, readAt}, unreadTotal}`.
    pub const NOTIFICATION_NEW: &str = "notification:new";
    /// `{ids, all, unreadTotal}`: notifications read on one of the user's devices.
    pub const NOTIFICATION_READ: &str = "notification:read";
    /// `{call, fromUserId, sdp, reason, at}` (the offer in `sdp`).
    pub const CALL_INCOMING: &str = "call:incoming";
    /// `{call, fromUserId, sdp, reason, at}` (the answer in `sdp`), to the caller.
    pub const CALL_ACCEPTED: &str = "call:accepted";
    /// `{call, fromUserId, at}`: to the callee's other devices: stop ringing.
    pub const CALL_ANSWERED_ELSEWHERE: &str = "call:answeredElsewhere";
    /// `{call, fromUserId, reason, at}`.
    pub const CALL_REJECTED: &str = "call:rejected";
    /// `{call, fromUserId, reason, at}`.
    pub const CALL_ENDED: &str = "call:ended";
    /// `{call, at}`: nobody answered in time.
    pub const CALL_MISSED: &str = "call:missed";
    /// `{callId, fromUserId, candidate, sdpMid, sdpMLineIndex}`.
    pub const CALL_ICE: &str = "call:ice";
    /// A user profile.
    pub const PROFILE_UPDATED: &str = "profile:updated";
    /// `{text, conversationId, at}`.
    pub const ANNOUNCEMENT: &str = "announcement";
    /// `{user, globalCursor, resumed, sessionId, tokenExpiresAt}`.
    pub const SESSION: &str = "session";
    /// `{globalCursor, replayed}`.
    pub const SYNC_DONE: &str = "sync:done";
    /// `{reason}`.
    pub const SESSION_RECONNECTING: &str = "session:reconnecting";
    /// `{reason}`.
    pub const SESSION_ENDED: &str = "session:ended";
    /// `{code, message, retryAfter?, field?, event}`: a request without an ack callback failed.
    pub const ERROR: &str = "error";
}

/// Canonical payload field names.
pub mod field {
    pub const CONVERSATION_ID: &str = "conversationId";
    pub const CONVERSATION_IDS: &str = "conversationIds";
    pub const MESSAGE_ID: &str = "messageId";
    pub const MESSAGE_IDS: &str = "messageIds";
    pub const TEXT: &str = "text";
    pub const KIND: &str = "kind";
    pub const CLIENT_MSG_ID: &str = "clientMsgId";
    pub const REPLY_TO: &str = "replyTo";
    pub const ATTACHMENTS: &str = "attachments";
    pub const METADATA: &str = "metadata";
    pub const USER_ID: &str = "userId";
    pub const USER_IDS: &str = "userIds";
    pub const PEER_USER_ID: &str = "peerUserId";
    pub const CONTEXT: &str = "context";
    pub const SEQ: &str = "seq";
    pub const UP_TO_SEQ: &str = "upToSeq";
    pub const STATUS: &str = "status";
    pub const ACTIVE: &str = "active";
    pub const EMOJI: &str = "emoji";
    pub const REMOVE: &str = "remove";
    pub const SCOPE: &str = "scope";
    pub const LIMIT: &str = "limit";
    pub const OFFSET: &str = "offset";
    pub const TOTAL: &str = "total";
    pub const HAS_MORE: &str = "hasMore";
    pub const NEXT_CURSOR: &str = "nextCursor";
    pub const BEFORE: &str = "before";
    pub const AFTER: &str = "after";
    pub const CURSOR: &str = "cursor";
    pub const IDS: &str = "ids";
    pub const BEFORE_ID: &str = "beforeId";
    pub const FROM_USER_ID: &str = "fromUserId";
    pub const SDP: &str = "sdp";
    pub const CALL: &str = "call";
    pub const CALL_ID: &str = "callId";
    pub const CALL_TYPE: &str = "callType";
    pub const SDP_OFFER: &str = "sdpOffer";
    pub const SDP_ANSWER: &str = "sdpAnswer";
    pub const CANDIDATE: &str = "candidate";
    pub const SDP_MID: &str = "sdpMid";
    pub const SDP_MLINE_INDEX: &str = "sdpMLineIndex";
    pub const REASON: &str = "reason";
    pub const CREATED_AT: &str = "createdAt";
    pub const AT: &str = "at";
    pub const DELETED_BY: &str = "deletedBy";
}

/// Every client → server operation.
pub const OPERATIONS: &[&str] = &[
    op::CONVERSATION_OPEN_DIRECT,
    op::CONVERSATION_CREATE_GROUP,
    op::CONVERSATION_GET,
    op::CONVERSATION_LIST,
    op::CONVERSATION_JOIN,
    op::CONVERSATION_LEAVE,
    op::CONVERSATION_EXIT,
    op::CONVERSATION_HIDE,
    op::CONVERSATION_TOGGLE_BLOCK,
    op::USER_BLOCK,
    op::USER_UNBLOCK,
    op::MESSAGE_SEND,
    op::MESSAGE_EDIT,
    op::MESSAGE_DELETE,
    op::MESSAGE_REACT,
    op::MESSAGE_GET,
    op::MESSAGE_HISTORY,
    op::MESSAGE_DELIVERED,
    op::MESSAGE_READ,
    op::UNREAD_GET,
    op::TYPING_START,
    op::TYPING_STOP,
    op::PRESENCE_SET,
    op::PRESENCE_GET,
    op::PRESENCE_ONLINE,
    op::PRESENCE_WATCH,
    op::NOTIFICATION_LIST,
    op::NOTIFICATION_READ,
    op::NOTIFICATION_READ_ALL,
    op::CALL_INVITE,
    op::CALL_ACCEPT,
    op::CALL_REJECT,
    op::CALL_END,
    op::CALL_ICE,
    op::NOOP,
];

/// Every server → client event.
pub const EVENTS: &[&str] = &[
    event::MESSAGE_NEW,
    event::MESSAGE_EDITED,
    event::MESSAGE_DELETED,
    event::MESSAGE_REACTION,
    event::MESSAGE_RECEIPT,
    event::UNREAD_UPDATED,
    event::CONVERSATION_UPDATED,
    event::TYPING_START,
    event::TYPING_STOP,
    event::PRESENCE_UPDATE,
    event::NOTIFICATION_NEW,
    event::NOTIFICATION_READ,
    event::CALL_INCOMING,
    event::CALL_ACCEPTED,
    event::CALL_ANSWERED_ELSEWHERE,
    event::CALL_REJECTED,
    event::CALL_ENDED,
    event::CALL_MISSED,
    event::CALL_ICE,
    event::PROFILE_UPDATED,
    event::ANNOUNCEMENT,
    event::SESSION,
    event::SYNC_DONE,
    event::SESSION_RECONNECTING,
    event::SESSION_ENDED,
    event::ERROR,
];

pub fn is_operation(name: &str) -> bool {
    OPERATIONS.contains(&name)
}

pub fn is_event(name: &str) -> bool {
    EVENTS.contains(&name)
}
