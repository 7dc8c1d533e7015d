//! What presence says about a user beside their status: the display name and the profile fields the
//! deployment copies from tokens (`auth.profile_claims`, e.g. a user type). A card is taken from the
//! profile when a session connects or the user updates their profile, and shared by every presence
//! answer and event about that user while they are in memory, so announcing it costs no store read.

use std::sync::Arc;

use quip_protocol::family::common::KeyValue;
use quip_store::model::Profile;

use super::Presence;

/// A user's display name and token-given fields, as presence carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    pub display_name: Option<String>,
    pub fields: Vec<KeyValue>,
}

impl Card {
    /// The card of `profile`: its name, and those of its fields that `card_fields` names.
    pub fn of(profile: &Profile, card_fields: &[String]) -> Self {
        let fields = profile
            .fields
            .iter()
            .filter(|(key, _)| card_fields.iter().any(|f| f == key))
            .map(|(key, value)| KeyValue { key: key.clone(), value: value.clone() })
            .collect();
        Self { display_name: profile.name.clone(), fields }
    }
}

impl Presence {
    /// The profile fields a card carries (the fields `auth.profile_claims` fills).
    pub fn card_fields(&self) -> &[String] {
        &self.inner.card_fields
    }

    /// The card of `profile`, with the fields this deployment puts on cards.
    pub fn card_of(&self, profile: &Profile) -> Arc<Card> {
        Arc::new(Card::of(profile, &self.inner.card_fields))
    }

    /// Replaces the card of a user in memory (their profile changed); a user not in memory gets theirs
    /// at their next connect.
    pub fn set_card(&self, user: &str, card: Arc<Card>) {
        if let Some(state) = self.inner.users.lock(user).get_mut(user) {
            state.card = card;
        }
    }

    /// The card of a user in memory (online, or offline within the grace period).
    pub fn card(&self, user: &str) -> Option<Arc<Card>> {
        self.inner.users.lock(user).get(user).map(|s| s.card.clone())
    }
}
