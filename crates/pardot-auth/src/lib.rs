//! The front door: pick a flow by configuration and get a ready Pardot client.
//!
//! Not built yet: see the project's issue tracker. Until then, use the member crates directly:
//! [`pardot_auth_core`].

pub use pardot_auth_core as core;
