//! The canonical REST API as one table: method, path, the canonical operation it runs, how its answer is
//! shaped. The router and the OpenAPI document are both built from it.

use axum::http::{Method, StatusCode};

use super::target::Target;

/// An HTTP method of the table (a plain `Copy` enum, so the table can be `const`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verb {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Patch => Method::PATCH,
            Verb::Put => Method::PUT,
            Verb::Delete => Method::DELETE,
        }
    }

    /// The lower-case name OpenAPI uses.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Patch => "patch",
            Verb::Put => "put",
            Verb::Delete => "delete",
        }
    }
}

/// How a route's `data` is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// `data` is the operation's result.
    Plain,
    /// `data` is the list under this key of the result, with `pagination {nextCursor, hasMore, limit}`.
    Paged(&'static str),
}

/// One REST route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: Verb,
    /// axum path syntax; path parameters are named after the operation's arguments.
    pub path: &'static str,
    /// What it runs.
    pub op: Target,
    pub status: StatusCode,
    pub shape: Shape,
    pub summary: &'static str,
    /// Query parameters (documented; every query parameter is passed to the operation).
    pub query: &'static [&'static str],
    /// Body fields (documented; the JSON body is passed to the operation).
    pub body: &'static [&'static str],
}

const fn route(
    method: Verb,
    path: &'static str,
    op: &'static str,
    summary: &'static str,
    query: &'static [&'static str],
    body: &'static [&'static str],
) -> Route {
    own(method, path, Target::Op(op), summary, query, body)
}

/// A REST-only route (see [`Target`]).
const fn own(
    method: Verb,
    path: &'static str,
    op: Target,
    summary: &'static str,
    query: &'static [&'static str],
    body: &'static [&'static str],
) -> Route {
    Route { method, path, op, status: StatusCode::OK, shape: Shape::Plain, summary, query, body }
}

const fn created(mut r: Route) -> Route {
    r.status = StatusCode::CREATED;
    r
}

const fn paged(mut r: Route, key: &'static str) -> Route {
    r.shape = Shape::Paged(key);
    r
}

const GET: Verb = Verb::Get;
const POST: Verb = Verb::Post;
const PATCH: Verb = Verb::Patch;
const PUT: Verb = Verb::Put;
const DELETE: Verb = Verb::Delete;

/// Every route under `/api/v1`.
pub const ROUTES: &[Route] = &[
    own(GET, "/me", Target::Me, "The caller's profile", &[], &[]),
    route(PATCH, "/me", "profile:update", "Update the caller's profile", &[], &["displayName", "avatarUrl", "fields"]),
    route(GET, "/users", "user:get", "Profiles of users", &["userIds"], &[]),
    paged(
        route(
            GET,
            "/conversations",
            "conversation:list",
            "The caller's conversations, most recent first",
            &["cursor", "limit", "includeArchived"],
            &[],
        ),
        "conversations",
    ),
    created(own(
        POST,
        "/conversations",
        Target::CreateConversation,
        "Open a direct conversation (type direct) or create a group (type group)",
        &[],
        &["type", "peerUserId", "context", "title", "memberIds", "avatarUrl", "description"],
    )),
    route(GET, "/conversations/{conversationId}", "conversation:get", "One conversation", &[], &[]),
    route(
        PATCH,
        "/conversations/{conversationId}",
        "conversation:update",
        "Rename or describe a group",
        &[],
        &["title", "avatarUrl", "description"],
    ),
    paged(
        route(
            GET,
            "/conversations/{conversationId}/messages",
            "message:history",
            "History, newest first; pass pagination.nextCursor back as `before` (or `after` going forward)",
            &["before", "after", "cursor", "direction", "limit"],
            &[],
        ),
        "messages",
    ),
    created(route(
        POST,
        "/conversations/{conversationId}/messages",
        "message:send",
        "Send a message; answers once it is durable",
        &[],
        &["text", "clientMsgId", "kind", "attachments", "replyTo", "metadata"],
    )),
    route(
        POST,
        "/conversations/{conversationId}/read",
        "message:read",
        "Mark read up to a seq (default: everything) or by message ids",
        &[],
        &["upToSeq", "messageIds"],
    ),
    route(
        POST,
        "/conversations/{conversationId}/delivered",
        "message:delivered",
        "Mark delivered up to a seq",
        &[],
        &["upToSeq"],
    ),
    own(
        POST,
        "/conversations/{conversationId}/typing",
        Target::Typing,
        "Typing started (active true) or stopped",
        &[],
        &["active"],
    ),
    route(GET, "/conversations/{conversationId}/online", "presence:online", "Members online now", &[], &[]),
    route(
        POST,
        "/conversations/{conversationId}/members",
        "conversation:addMembers",
        "Add members to a group",
        &[],
        &["userIds"],
    ),
    route(
        DELETE,
        "/conversations/{conversationId}/members/{userId}",
        "conversation:removeMember",
        "Remove a member from a group",
        &[],
        &[],
    ),
    route(
        PUT,
        "/conversations/{conversationId}/members/{userId}/role",
        "conversation:setRole",
        "Change a member's role",
        &[],
        &["role"],
    ),
    route(POST, "/conversations/{conversationId}/leave", "conversation:exit", "Leave a group", &[], &[]),
    route(POST, "/conversations/{conversationId}/hide", "conversation:hide", "Hide until the next message", &[], &[]),
    route(
        POST,
        "/conversations/{conversationId}/archive",
        "conversation:archive",
        "Archive (archived true) or unarchive",
        &[],
        &["archived"],
    ),
    route(
        POST,
        "/conversations/{conversationId}/mute",
        "conversation:mute",
        "Mute until a time (0 unmutes)",
        &[],
        &["mutedUntil"],
    ),
    route(GET, "/messages/{messageId}", "message:get", "One message", &[], &[]),
    route(PATCH, "/messages/{messageId}", "message:edit", "Edit a message (sender, within 15 minutes)", &[], &["text"]),
    route(
        DELETE,
        "/messages/{messageId}",
        "message:delete",
        "Delete for me (scope=me) or for everyone (scope=everyone)",
        &["scope"],
        &[],
    ),
    route(
        POST,
        "/messages/{messageId}/reactions",
        "message:react",
        "Add (or with remove true, remove) a reaction",
        &[],
        &["emoji", "remove"],
    ),
    own(DELETE, "/messages/{messageId}/reactions/{emoji}", Target::Unreact, "Remove a reaction", &[], &[]),
    route(GET, "/messages/{messageId}/receipts", "message:receipts", "Who got and read a message", &[], &[]),
    route(
        GET,
        "/unread",
        "unread:get",
        "Unread counts (all conversations, or conversationIds)",
        &["conversationIds"],
        &[],
    ),
    route(GET, "/presence", "presence:get", "Presence of users", &["userIds"], &[]),
    route(PUT, "/presence", "presence:set", "Set the caller's status", &[], &["status"]),
    paged(
        route(
            GET,
            "/notifications",
            "notification:list",
            "The caller's notifications, newest first",
            &["beforeId", "limit", "unreadOnly"],
            &[],
        ),
        "notifications",
    ),
    route(POST, "/notifications/read", "notification:read", "Mark notifications read", &[], &["ids"]),
    route(POST, "/notifications/read-all", "notification:readAll", "Mark every notification read", &[], &[]),
    route(POST, "/users/{userId}/block", "user:block", "Block a user", &[], &[]),
    route(DELETE, "/users/{userId}/block", "user:unblock", "Unblock a user", &[], &[]),
    route(GET, "/blocked", "user:blocked", "Users the caller blocked", &[], &[]),
];
