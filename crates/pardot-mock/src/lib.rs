//! A fake Salesforce login server, Pardot API and Marketing Cloud Intelligence identity provider.
//!
//! Not built yet: see the project's issue tracker. It exposes nothing until it works.
