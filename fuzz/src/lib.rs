//! What several fuzz targets check the same way: a canonical operation's arguments, as a Socket.IO
//! payload, a REST request or a dialect's translation hands them to the core, must become a quip request
//! that quipd can read, or be refused as an invalid argument.
#![allow(clippy::panic, clippy::expect_used)]

use std::sync::LazyLock;

use quip_bridge::dialects::{self, BUILTIN};
use quip_bridge::json::Args;
use quip_bridge::ops;
use quip_dialect::Dialect;
use quip_protocol::{ClientFrame, DecodeError, ErrorCode, Limits};

/// Builds `op`'s request from `args` as the operation would: a request built must encode to a frame that
/// decodes to the same request, or that quipd refuses only for a value the protocol forbids (an empty
/// required field, something too long); a refusal must be `InvalidArgument`. Operations that are not one
/// request built from their arguments (`Operation::build` gives `None`: they need the session) are skipped.
pub fn check_request(op: &str, args: &Args) {
    let by_offset = matches!(op, "message:history" | "conversation:list") && args.get("offset").is_some();
    if ops::find(op).is_some_and(|o| o.build().is_none()) || by_offset {
        return;
    }
    match ops::build(op, args) {
        Ok(body) => {
            let frame = ClientFrame::new(1, body);
            match ClientFrame::decode(&frame.encode(), &Limits::default()) {
                Ok(back) => {
                    if back != frame {
                        panic!("{op}: the request did not round-trip:\n{frame:?}\n{back:?}");
                    }
                }
                Err(DecodeError::MissingField { .. } | DecodeError::TooLong { .. }) => {}
                Err(e) => panic!("{op}: the bridge built a frame quipd cannot read: {e}"),
            }
        }
        Err(e) => {
            if e.code != ErrorCode::InvalidArgument {
                panic!("{op}: refused with {e}, not InvalidArgument");
            }
            let _ = e.envelope();
        }
    }
}

/// The shipped dialect `pick` chooses (`BUILTIN[pick % len]`), with its name. Each is compiled once per
/// process: compiling one per input would leave the dialect targets a few dozen executions a second.
pub fn dialect(pick: u8) -> (&'static str, &'static Dialect) {
    static DIALECTS: LazyLock<Vec<(&'static str, Dialect)>> = LazyLock::new(|| {
        BUILTIN.iter().map(|(name, _)| (*name, dialects::builtin(name).expect("a shipped dialect loads"))).collect()
    });
    let (name, d) = &DIALECTS[usize::from(pick) % DIALECTS.len()];
    (name, d)
}
