//! What the CLI's tests share: running the binary, reading what it printed, a scratch
//! folder of their own.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `jit-provisioning ARGS…` with nothing on standard input.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jit-provisioning"))
        .args(args)
        .output()
        .unwrap()
}

/// What the command printed on standard output.
pub fn out(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A fresh folder `cli-{name}` under the target's scratch space.
pub fn scratch(name: &str) -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = fs::remove_dir_all(&folder);
    fs::create_dir_all(&folder).unwrap();
    folder
}
