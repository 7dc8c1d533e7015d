//! How records are written as values: JSON, one serde type per column family.

use crate::error::StoreError;

pub(crate) fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|_| StoreError::Corrupt(what))
}

pub(crate) fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Serialising plain structs of strings and integers to a Vec cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}
