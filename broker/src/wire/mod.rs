//! The broker's wire edge: every conversion between the store's records (`quip_store::model`) and the
//! protocol's types, every frame encoder and every projection of stored state into a view. Nothing
//! below it (the store) knows the wire; everything above it (sessions, requests, services, fan-out)
//! encodes through it, so a new event's encoder goes here.

pub mod close_code;
pub mod convert;
mod frame;
pub mod view;

pub use frame::{delivery_frame, error_frame, frame, message_frame};
