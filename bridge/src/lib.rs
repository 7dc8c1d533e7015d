//! quip-bridge: serves existing web and mobile clients (Socket.IO v4 and REST) on top of the Quip
//! broker, through the SDK, with one dialect per legacy app.
//!
//! Not built yet: this crate holds the place in the workspace so that its dependencies (axum,
//! socketioxide) are part of the single build. The design is in docs/ARCHITECTURE.md.
