//! What an operation is ([`Operation`]: a name and how it runs), what it runs with ([`Input`]) and the
//! helpers the family files share. The table of every operation is `super::OPERATIONS`.

use std::future::Future;
use std::pin::Pin;

use quip_protocol::{ClientBody, ServerBody};
use quip_sdk::{Client, ErrorCode};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json::Args;

/// What an operation answers: the JSON `data` of an ack or a REST response.
pub type Outcome = Result<Value, ApiError>;

/// An operation running.
pub type Running<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Builds an operation's one quip request from its arguments.
pub type Build = fn(&Args) -> Result<ClientBody, ApiError>;

/// Renders quipd's reply to an operation's request as JSON.
pub type Render = fn(ServerBody) -> Value;

/// Runs an operation that is more than one request built from its arguments (several requests, an SDK
/// call, what the Socket.IO connection remembers).
pub type Handler = for<'a> fn(&'a Input<'a>) -> Running<'a>;

/// One canonical operation: its name (the Socket.IO event of docs/BRIDGE.md, the operation of REST routes
/// and dialect rules) and how it runs.
#[derive(Clone, Copy)]
pub struct Operation {
    pub name: &'static str,
    run: Run,
    /// Only on a Socket.IO connection (it changes what the connection remembers).
    pub socket_only: bool,
}

#[derive(Clone, Copy)]
enum Run {
    /// One request: built, sent, its reply rendered.
    Request { build: Build, render: Render },
    /// Its own handler; `build`: the one request it usually sends.
    Handler { build: Option<Build>, handler: Handler },
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").field("name", &self.name).field("socket_only", &self.socket_only).finish()
    }
}

impl Operation {
    /// An operation that is one quip request: `build` it, send it, `render` the reply.
    pub const fn request(name: &'static str, build: Build, render: Render) -> Self {
        Self { name, run: Run::Request { build, render }, socket_only: false }
    }

    /// An operation with a handler of its own.
    pub const fn handler(name: &'static str, handler: Handler) -> Self {
        Self { name, run: Run::Handler { build: None, handler }, socket_only: false }
    }

    /// An operation that usually is one request (`build`), run by `handler`, which covers what else it
    /// accepts (an extension for legacy dialects).
    pub const fn extended(name: &'static str, build: Build, handler: Handler) -> Self {
        Self { name, run: Run::Handler { build: Some(build), handler }, socket_only: false }
    }

    /// The same, for Socket.IO connections only.
    pub const fn on_sockets(mut self) -> Self {
        self.socket_only = true;
        self
    }

    /// The one quip request it sends, when it sends one built from its arguments alone (what the fuzz
    /// targets check); `None` for the operations that run otherwise (several requests, an SDK call).
    pub fn build(&self) -> Option<Build> {
        match self.run {
            Run::Request { build, .. } => Some(build),
            Run::Handler { build, .. } => build,
        }
    }

    /// Runs the operation.
    pub fn run<'a>(&self, input: &'a Input<'a>) -> Running<'a> {
        if self.socket_only && input.connection.is_none() {
            let e = ApiError::invalid(format!("`{}` needs a Socket.IO connection", self.name));
            return Box::pin(std::future::ready(Err(e)));
        }
        match self.run {
            Run::Request { build, render } => Box::pin(request(input, build, render)),
            Run::Handler { handler, .. } => handler(input),
        }
    }
}

/// What a Socket.IO connection remembers between requests (the socket's memory implements it).
pub trait Connection: Send + Sync {
    /// The connection joined a conversation's room: a dialect's conversation-room events reach it.
    fn join(&self, conversation_id: u64);
    fn leave(&self, conversation_id: u64);
    /// The call ringing or active in a conversation, as the connection last saw it.
    fn call_in(&self, conversation_id: u64) -> Option<u64>;
    /// A call seen ringing or active. Call ids grow, so an event about an older call, read after a newer
    /// one was remembered, does not replace it.
    fn remember_call(&self, conversation_id: u64, call_id: u64);
    /// A call that ended; forgotten only if it is still the one remembered (a newer call may already be
    /// ringing when the end of the last one is read).
    fn forget_call(&self, conversation_id: u64, call_id: u64);
}

/// What an operation runs with: the caller's upstream session, the JSON arguments and, on Socket.IO,
/// the connection.
pub struct Input<'a> {
    pub client: &'a Client,
    pub args: Args,
    /// `None`: a REST call.
    pub connection: Option<&'a dyn Connection>,
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input").field("args", &self.args).field("socket", &self.connection.is_some()).finish()
    }
}

impl<'a> Input<'a> {
    /// The same caller and connection with other arguments.
    pub fn with(&self, args: Args) -> Input<'a> {
        Input { client: self.client, args, connection: self.connection }
    }
}

/// Sends `build`'s request and renders the reply.
pub async fn request(input: &Input<'_>, build: Build, render: Render) -> Outcome {
    let body = build(&input.args)?;
    Ok(render(input.client.request(body).await?))
}

/// Renders a reply that carries nothing (`Done`) as `{}`; anything else by its name.
pub fn done(reply: ServerBody) -> Value {
    match reply {
        ServerBody::Done(_) => json!({}),
        other => json!({ "reply": other.name() }),
    }
}

/// The error for a reply quipd should not have sent.
pub fn unexpected(reply: &ServerBody) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("unexpected reply {} from quipd", reply.name()))
}

/// A value outside an argument's allowed set.
pub fn unknown(field: &str, value: &str, allowed: &str) -> ApiError {
    let mut e = ApiError::invalid(format!("`{field}` must be one of {allowed}, not {value:?}"));
    e.field = Some(field.to_owned());
    e
}

/// An operation with nothing to do: `{}` (legacy routes Quip makes unnecessary).
pub fn nothing<'a>(_: &'a Input<'a>) -> Running<'a> {
    Box::pin(std::future::ready(Ok(json!({}))))
}
