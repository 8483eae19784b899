//! An authenticated transport for the Pardot API.
//!
//! Not built yet: see the project's issue tracker. It exposes nothing until it works.
