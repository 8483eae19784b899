//! Salesforce OAuth 2.0 flows and the Marketing Cloud Intelligence service-account flow.
//!
//! Not built yet: this crate's flows are being written (see the project's issue tracker).
//! Until then it exposes nothing, so nothing in it can pretend to work.
