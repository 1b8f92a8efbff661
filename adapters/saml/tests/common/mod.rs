//! Shared by the adapter's integration tests.
#![allow(dead_code)]

pub mod idp;
pub mod verdicts;
