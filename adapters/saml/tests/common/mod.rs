//! Shared by the adapter's integration tests.
#![allow(dead_code)]

pub mod idp;
pub mod log;
pub mod metadata_server;
pub mod verdicts;
