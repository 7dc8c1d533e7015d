//! quip-bridge: serves existing web and mobile clients (Socket.IO v4 and REST) on top of the Quip
//! broker, through the SDK, with one dialect per legacy app.

pub mod dialect;
