//! What a REST route runs: a canonical operation as it is, or one of the few REST-only routes whose
//! operation depends on the request. Those are resolved here, once, for the router and the fuzzer alike.

use crate::error::ApiError;
use crate::json::Args;

/// The operation a route runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A canonical operation of `crate::ops`, with the request's arguments unchanged.
    Op(&'static str),
    /// `GET /me`: the caller's profile, from the session's welcome (no request to quipd).
    Me,
    /// `POST /conversations/{conversationId}/typing`: `typing:start`, or `typing:stop` when `active` is
    /// false.
    Typing,
    /// `DELETE /messages/{messageId}/reactions/{emoji}`: `message:react` with `remove`.
    Unreact,
    /// `POST /conversations`: `conversation:openDirect` (`type` direct, the default) or
    /// `conversation:createGroup` (`type` group).
    CreateConversation,
}

/// What a route comes to for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolved {
    /// Answer with the caller's profile.
    Profile,
    /// Run this canonical operation with the (possibly amended) arguments.
    Run(&'static str),
}

impl Target {
    /// The name the OpenAPI document shows (`x-quip-operation`): the canonical operation, or `rest:<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Op(op) => op,
            Target::Me => "rest:me",
            Target::Typing => "rest:typing",
            Target::Unreact => "rest:unreact",
            Target::CreateConversation => "rest:createConversation",
        }
    }

    /// The operation this request runs; `args` gets what the operation needs beyond the request.
    pub fn resolve(self, args: &mut Args) -> Result<Resolved, ApiError> {
        let op = match self {
            Target::Op(op) => op,
            Target::Me => return Ok(Resolved::Profile),
            Target::Typing => {
                if args.bool_or("active", true)? {
                    "typing:start"
                } else {
                    "typing:stop"
                }
            }
            Target::Unreact => {
                args.set("remove", true);
                "message:react"
            }
            Target::CreateConversation => match args.opt_str("type")?.as_deref().unwrap_or("direct") {
                "direct" => "conversation:openDirect",
                "group" => "conversation:createGroup",
                other => return Err(ApiError::invalid(format!("`type` must be direct or group, not {other:?}"))),
            },
        };
        Ok(Resolved::Run(op))
    }
}
