//! `jit-provisioning handles`: the handles JIT would give a directory, one per row.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn handles(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jit-provisioning"))
        .arg("handles")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn every_row_gets_a_handle_even_a_blank_one() {
    // A whitespace-only row is a person with no usable name or email: JIT gives them
    // `user`, so the preview must too, and keep the rows aligned with the input.
    let output = handles(&[], "Jane\tDoe\n \t \nJane\tDoe\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        ["Jane\tDoe\tjane-doe", " \t \tuser", "Jane\tDoe\tjane-doe-2"]
    );
    let notes = stderr(&output);
    assert!(
        notes.contains("line 2: `user` comes from nothing usable"),
        "{notes}"
    );
}

#[test]
fn notes_say_whether_a_suffix_came_from_a_taken_handle_or_the_cut_from_the_length() {
    let output = handles(
        &["--max-handle-len", "12"],
        "Jane\tDoe\nJane\tDoe\nAdmin\t\nMaximiliana\tKonstantinopoulou\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        [
            "Jane\tDoe\tjane-doe",
            "Jane\tDoe\tjane-doe-2",
            "Admin\t\tadmin-2",
            "Maximiliana\tKonstantinopoulou\tmaximiliana",
        ]
    );
    let notes = stderr(&output);
    assert!(
        notes.contains("line 2: `jane-doe` is taken by line 1: `jane-doe-2`"),
        "{notes}"
    );
    assert!(
        notes.contains("line 3: `admin` is reserved: `admin-2`"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "line 4: `maximiliana-konstantinopoulou` is longer than 12 characters: cut to `maximiliana`"
        ),
        "{notes}"
    );
    assert!(!notes.contains("taken or too long"), "{notes}");
}

#[test]
fn a_config_adds_its_reserved_words_org_ids_and_length() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-handles");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "reserved_handles = [\"ceo\"]\n[orgs.jane-doe]\njit = false\n",
    )
    .unwrap();
    let output = handles(
        &["--config", config.to_str().unwrap()],
        "first\tlast\nJane\tDoe\nCEO\t\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), ["Jane\tDoe\tjane-doe-2", "CEO\t\tceo-2"]);
    let notes = stderr(&output);
    assert!(notes.contains("`jane-doe` is an org id"), "{notes}");
    assert!(notes.contains("`ceo` is reserved by the config"), "{notes}");
}
