//! Blocking: block and unblock a user, list the users the caller has blocked.

use flatbuffers::WIPOffset;

use crate::convert::{Fbb, max, table_codec};
use crate::family::common::UserRef;
use crate::{DecodeError, fb};

/// Block a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockUser {
    pub user_id: String,
}

table_codec! {
    BlockUser => fb::BlockUser, fb::BlockUserArgs {
        user_id: req_str(max::USER_ID),
    }
}

/// Unblock a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnblockUser {
    pub user_id: String,
}

table_codec! {
    UnblockUser => fb::UnblockUser, fb::UnblockUserArgs {
        user_id: req_str(max::USER_ID),
    }
}

/// List the users the caller has blocked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListBlocked;

impl ListBlocked {
    pub(crate) fn encode<'b>(&self, fbb: &mut Fbb<'b>) -> WIPOffset<fb::ListBlocked<'b>> {
        fb::ListBlocked::create(fbb, &fb::ListBlockedArgs {})
    }

    pub(crate) fn decode(_: fb::ListBlocked<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
}

/// The users the caller has blocked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockedUsers {
    pub users: Vec<UserRef>,
}

table_codec! {
    BlockedUsers => fb::BlockedUsers, fb::BlockedUsersArgs {
        users: table_list(UserRef, max::LIST),
    }
}
