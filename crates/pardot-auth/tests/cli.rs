//! CLI tests (filled below).
#![cfg(feature = "cli")]
