//! The legacy Pardot login (email, password, user_key -> api_key) and the v3/v4 envelope parser.
//!
//! Not built yet: see the project's issue tracker. It exposes nothing until it works.
