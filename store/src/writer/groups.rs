//! The writer's half of group management: adding and removing members, roles, renaming, leaving.
//!
//! Each change is checked against the actor's role on the writer thread (so two admins cannot race),
//! written with a System message that records it in the conversation, and published as a
//! `Committed::ConvChanged`. A member who leaves or is removed gets that last system message and
//! nothing after it: their member row is gone, so fan-out, history and resume no longer include them.
//!
//! Who may do what: admins and the owner add members, rename, and remove members of a lower role; only
//! the owner changes roles, and handing over `Owner` makes the old owner an admin. When the owner
//! leaves, the longest-standing admin (or else member) becomes the owner.

use std::sync::Arc;

use rocksdb::WriteBatch;

use super::cmd::{Committed, ConvChange, NewMessage, Reply, WriteCmd};
use super::handle::Writer;
use super::requests::{MemberChange, MemberOp};
use super::state::{Pending, State};
use crate::keys;
use crate::model::{ConvId, ConvKind, ConvMeta, MemberRec, MessageKind, Role, Sender, SystemKind, UserId};
use crate::{StoreError, encode};

impl Writer {
    /// Applies a group change; returns once it is durable.
    pub async fn change_members(&self, change: MemberChange) -> Result<(), StoreError> {
        self.call(|reply: Reply<()>| WriteCmd::Members { change, reply }).await
    }
}

impl State {
    /// A member's record as this batch left it (`None`: not a member).
    fn member_rec(&self, pending: &Pending, conv: ConvId, user: &str) -> Result<Option<MemberRec>, StoreError> {
        match pending.member_recs.get(&(conv, user.to_owned())) {
            Some(rec) => Ok(rec.clone()),
            None => self.store.member(conv, user),
        }
    }

    fn conv_meta_of(&self, pending: &Pending, conv: ConvId) -> Result<ConvMeta, StoreError> {
        match pending.metas.get(&conv) {
            Some(m) => Ok(m.clone()),
            None => self.store.conv_meta(conv)?.ok_or(StoreError::NotFound),
        }
    }

    fn put_member(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        conv: ConvId,
        user: &str,
        rec: Option<MemberRec>,
    ) -> Result<(), StoreError> {
        let members_cf = self.store.cf(keys::MEMBERS)?;
        let user_convs_cf = self.store.cf(keys::USER_CONVS)?;
        match &rec {
            Some(r) => {
                batch.put_cf(&members_cf, keys::member_key(conv, user), encode(r));
                batch.put_cf(&user_convs_cf, keys::user_conv_key(user, conv), []);
            }
            None => {
                batch.delete_cf(&members_cf, keys::member_key(conv, user));
                batch.delete_cf(&user_convs_cf, keys::user_conv_key(user, conv));
            }
        }
        self.note_user_conv(user, conv, rec.is_some());
        pending.member_recs.insert((conv, user.to_owned()), rec);
        Ok(())
    }

    pub(super) fn change_members(
        &mut self,
        batch: &mut WriteBatch,
        pending: &mut Pending,
        c: MemberChange,
    ) -> Result<(), StoreError> {
        let mut meta = self.conv_meta_of(pending, c.conv)?;
        let actor_rec = self.member_rec(pending, c.conv, &c.actor.id)?.ok_or(StoreError::NotFound)?;
        if meta.kind == ConvKind::Direct {
            return Err(StoreError::Invalid("a direct conversation's members and settings are fixed".into()));
        }
        let before = self.members_of(c.conv)?;
        let actor = c.actor.id.clone();
        let is_admin = actor_rec.role >= Role::Admin;
        let mut after: Vec<UserId> = before.to_vec();
        let (change, users, system, text, audience_before) = match c.op {
            MemberOp::Add(users) => {
                if !is_admin {
                    return Err(StoreError::Forbidden("only admins add members"));
                }
                let mut added = Vec::new();
                for user in users {
                    if !after.contains(&user) && !added.contains(&user) && !user.is_empty() {
                        added.push(user);
                    }
                }
                if added.is_empty() {
                    return Ok(());
                }
                if after.len() + added.len() > c.max_members {
                    return Err(StoreError::Invalid(format!("a group has at most {} members", c.max_members)));
                }
                for user in &added {
                    let rec = MemberRec { role: Role::Member, joined_at_ms: c.now_ms };
                    self.put_member(batch, pending, c.conv, user, Some(rec))?;
                    after.push(user.clone());
                }
                let text = format!("{} added {}", name(&c.actor), added.join(", "));
                (ConvChange::MembersAdded, added, SystemKind::MembersAdded, text, false)
            }
            MemberOp::Remove(user) => {
                if user == actor {
                    return Err(StoreError::Invalid("use LeaveConversation to leave".into()));
                }
                let target = self.member_rec(pending, c.conv, &user)?.ok_or(StoreError::NotFound)?;
                if !is_admin || target.role >= actor_rec.role {
                    return Err(StoreError::Forbidden("only admins remove members, and only of a lower role"));
                }
                self.put_member(batch, pending, c.conv, &user, None)?;
                after.retain(|u| *u != user);
                let text = format!("{} removed {user}", name(&c.actor));
                (ConvChange::MemberRemoved, vec![user], SystemKind::MemberRemoved, text, true)
            }
            MemberOp::SetRole { user, role } => {
                if actor_rec.role != Role::Owner {
                    return Err(StoreError::Forbidden("only the owner changes roles"));
                }
                if user == actor {
                    return Err(StoreError::Invalid(
                        "the owner hands over ownership by making another member owner".into(),
                    ));
                }
                let mut target = self.member_rec(pending, c.conv, &user)?.ok_or(StoreError::NotFound)?;
                if target.role == role {
                    return Ok(());
                }
                target.role = role;
                self.put_member(batch, pending, c.conv, &user, Some(target))?;
                let mut users = vec![user.clone()];
                if role == Role::Owner {
                    let demoted = MemberRec { role: Role::Admin, ..actor_rec };
                    self.put_member(batch, pending, c.conv, &actor, Some(demoted))?;
                    users.push(actor.clone());
                }
                let text = format!("{} made {user} {}", name(&c.actor), role_name(role));
                (ConvChange::RoleChanged, users, SystemKind::RoleChanged, text, false)
            }
            MemberOp::Update { title, avatar_url, description } => {
                if !is_admin {
                    return Err(StoreError::Forbidden("only admins change the group"));
                }
                let renamed = title.as_ref().is_some_and(|t| meta.title.as_ref() != Some(t));
                let text = match &title {
                    Some(t) if renamed => format!("{} renamed the group to \"{t}\"", name(&c.actor)),
                    _ => format!("{} changed the group", name(&c.actor)),
                };
                if let Some(t) = title {
                    meta.title = Some(t);
                }
                if let Some(a) = avatar_url {
                    meta.avatar_url = (!a.is_empty()).then_some(a);
                }
                if let Some(d) = description {
                    meta.description = (!d.is_empty()).then_some(d);
                }
                batch.put_cf(&self.store.cf(keys::CONVS)?, keys::u64_key(c.conv), encode(&meta));
                pending.metas.insert(c.conv, meta);
                let system = if renamed { SystemKind::Renamed } else { SystemKind::Unspecified };
                (ConvChange::Updated, Vec::new(), system, text, false)
            }
            MemberOp::Leave => {
                self.put_member(batch, pending, c.conv, &actor, None)?;
                after.retain(|u| *u != actor);
                let mut users = vec![actor.clone()];
                if actor_rec.role == Role::Owner && !after.is_empty() {
                    let heir = self.heir(pending, c.conv, &after)?;
                    if let Some((heir, mut rec)) = heir {
                        rec.role = Role::Owner;
                        self.put_member(batch, pending, c.conv, &heir, Some(rec))?;
                        users.push(heir);
                    }
                }
                let text = format!("{} left", name(&c.actor));
                (ConvChange::MemberLeft, users, SystemKind::MemberLeft, text, true)
            }
        };
        let after: Arc<[UserId]> = after.into();
        self.members.insert(c.conv, after.clone());
        // Those who just left or were removed hear of it, and nothing after.
        let audience = if audience_before { before } else { after };
        let metadata = std::iter::once(("actor".to_owned(), actor.clone()))
            .chain(users.iter().map(|u| ("user".to_owned(), u.clone())))
            .collect();
        let note = NewMessage {
            conv: c.conv,
            sender: c.actor,
            kind: MessageKind::System,
            text,
            metadata,
            system,
            ..NewMessage::default()
        };
        // The change first, so a new member knows the conversation before its first message.
        pending.events.push(Committed::ConvChanged {
            conv: c.conv,
            change,
            actor,
            users,
            at_ms: c.now_ms,
            audience: audience.clone(),
        });
        self.write_message(batch, pending, note, None, c.now_ms, audience)?;
        Ok(())
    }

    /// Who becomes the owner when the owner leaves: the longest-standing admin, else member.
    fn heir(
        &self,
        pending: &Pending,
        conv: ConvId,
        remaining: &[UserId],
    ) -> Result<Option<(UserId, MemberRec)>, StoreError> {
        let mut best: Option<(UserId, MemberRec)> = None;
        for user in remaining {
            let Some(rec) = self.member_rec(pending, conv, user)? else { continue };
            let better = match &best {
                None => true,
                Some((_, b)) => {
                    (rec.role, std::cmp::Reverse(rec.joined_at_ms)) > (b.role, std::cmp::Reverse(b.joined_at_ms))
                }
            };
            if better {
                best = Some((user.clone(), rec));
            }
        }
        Ok(best)
    }
}

fn name(s: &Sender) -> &str {
    s.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&s.id)
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Member => "a member",
        Role::Admin => "an admin",
        Role::Owner => "the owner",
    }
}
