//! Dialects: how a legacy app's Socket.IO events, payload fields and REST routes map onto the bridge's
//! canonical vocabulary (docs/BRIDGE.md), both ways.
