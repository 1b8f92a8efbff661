//! The results of a run, for people (text), for programs (JSON) and for CI (JUnit XML).

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::cases::format::{CaseLoadError, FORMAT_VERSION};
use crate::cases::run::CaseResult;

/// The results of running case files.
///
/// Its `Display` is what a CI log needs: each failure with its differences and
/// explanation, each file that did not load, then `N passed, M failed` alone on the last
/// line. [`Report::verbose`] lists passing cases too; [`Report::to_json`] and
/// [`Report::to_junit`] are for tools.
#[derive(Debug, Default)]
pub struct Report {
    /// Each file's results, in the order run.
    pub files: Vec<(PathBuf, Vec<CaseResult>)>,
    /// Files that could not be loaded.
    pub load_errors: Vec<CaseLoadError>,
}

impl Report {
    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.results().filter(|r| r.passed()).count()
    }

    /// How many cases failed, counting each file that could not be loaded as one.
    pub fn failed(&self) -> usize {
        self.results().filter(|r| !r.passed()).count() + self.load_errors.len()
    }

    /// Whether every case passed and every file loaded (and there was at least one case).
    pub fn all_passed(&self) -> bool {
        self.failed() == 0 && self.passed() > 0
    }

    fn results(&self) -> impl Iterator<Item = &CaseResult> {
        self.files.iter().flat_map(|(_, results)| results)
    }

    /// The report with a `PASS` line for every passing case as well.
    pub fn verbose(&self) -> impl fmt::Display + '_ {
        Text {
            report: self,
            verbose: true,
        }
    }

    /// The report as one JSON object:
    ///
    /// ```json
    /// {"format": 1, "passed": 12, "failed": 1,
    ///  "files": [{"path": "tests/cases/jit.json",
    ///             "cases": [{"name": "…", "passed": false,
    ///                        "mismatches": [{"step": null, "key": "handle",
    ///                                        "expected": "\"jane-doe\"", "actual": "\"jane-doe-2\""}],
    ///                        "explanation": "account_created\n  rule jit_create: …"}]}],
    ///  "load_errors": [{"path": "tests/cases/typo.json", "message": "…"}]}
    /// ```
    ///
    /// `expected` and `actual` are JSON texts, as in the text report.
    pub fn to_json(&self) -> Value {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|(path, results)| {
                let cases: Vec<Value> = results
                    .iter()
                    .map(|result| {
                        let mismatches: Vec<Value> = result
                            .mismatches
                            .iter()
                            .map(|m| {
                                json!({"step": m.step, "key": m.key,
                                       "expected": m.expected, "actual": m.actual})
                            })
                            .collect();
                        json!({
                            "name": result.name,
                            "passed": result.passed(),
                            "mismatches": mismatches,
                            "explanation": result.explanation,
                        })
                    })
                    .collect();
                json!({"path": path.display().to_string(), "cases": cases})
            })
            .collect();
        let load_errors: Vec<Value> = self
            .load_errors
            .iter()
            .map(|error| {
                json!({"path": error.path().display().to_string(), "message": error.to_string()})
            })
            .collect();
        json!({
            "format": FORMAT_VERSION,
            "passed": self.passed(),
            "failed": self.failed(),
            "files": files,
            "load_errors": load_errors,
        })
    }

    /// The report as JUnit XML: one `<testsuite>` per file, one `<testcase>` per case, a
    /// `<failure>` for each case that failed and an `<error>` for each file that did not
    /// load.
    pub fn to_junit(&self) -> String {
        let mut xml = String::new();
        // Writing to a String cannot fail; `let _` keeps the lints quiet without unwrap.
        let _ = self.write_junit(&mut xml);
        xml
    }

    fn write_junit(&self, xml: &mut String) -> fmt::Result {
        writeln!(xml, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            xml,
            r#"<testsuites name="policy cases" tests="{}" failures="{}" errors="{}">"#,
            self.passed() + self.failed(),
            self.failed() - self.load_errors.len(),
            self.load_errors.len()
        )?;
        for (path, results) in &self.files {
            let path = escape(&path.display().to_string());
            let failures = results.iter().filter(|r| !r.passed()).count();
            writeln!(
                xml,
                r#"  <testsuite name="{path}" tests="{}" failures="{failures}" errors="0">"#,
                results.len()
            )?;
            for result in results {
                let name = escape(&result.name);
                if result.passed() {
                    writeln!(xml, r#"    <testcase classname="{path}" name="{name}"/>"#)?;
                    continue;
                }
                writeln!(xml, r#"    <testcase classname="{path}" name="{name}">"#)?;
                let first = result
                    .mismatches
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let mut body = String::new();
                for mismatch in &result.mismatches {
                    writeln!(body, "{mismatch}")?;
                }
                body.push_str(&result.explanation);
                writeln!(
                    xml,
                    r#"      <failure message="{}">{}</failure>"#,
                    escape(&first),
                    escape(&body)
                )?;
                writeln!(xml, "    </testcase>")?;
            }
            writeln!(xml, "  </testsuite>")?;
        }
        for error in &self.load_errors {
            let path = escape(&error.path().display().to_string());
            let message = escape(&error.to_string());
            writeln!(
                xml,
                r#"  <testsuite name="{path}" tests="1" failures="0" errors="1">"#
            )?;
            writeln!(
                xml,
                r#"    <testcase classname="{path}" name="(loading the file)">"#
            )?;
            writeln!(xml, r#"      <error message="{message}">{message}</error>"#)?;
            writeln!(xml, "    </testcase>")?;
            writeln!(xml, "  </testsuite>")?;
        }
        writeln!(xml, "</testsuites>")
    }
}

/// Text for an XML attribute or element. Characters XML 1.0 cannot hold at all (most
/// control characters) become U+FFFD: a case name is the user's text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The text report, with or without the passing cases.
struct Text<'a> {
    report: &'a Report,
    verbose: bool,
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.report;
        for (path, results) in &report.files {
            for result in results {
                if result.passed() {
                    if self.verbose {
                        writeln!(f, "PASS {} :: {}", path.display(), result.name)?;
                    }
                    continue;
                }
                writeln!(f, "FAIL {} :: {}", path.display(), result.name)?;
                for mismatch in &result.mismatches {
                    writeln!(f, "    {mismatch}")?;
                }
                for line in result.explanation.lines() {
                    writeln!(f, "    | {line}")?;
                }
            }
        }
        for error in &report.load_errors {
            writeln!(f, "ERROR {error}")?;
        }
        write!(f, "{} passed, {} failed", report.passed(), report.failed())
    }
}

impl fmt::Display for Report {
    /// Each failing case (`FAIL` with the differences and the explanation), each load
    /// error (`ERROR`), then `N passed, M failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Text {
            report: self,
            verbose: false,
        }
        .fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::run::Mismatch;

    fn report() -> Report {
        let passed = CaseResult {
            name: "fine".into(),
            mismatches: Vec::new(),
            explanation: "signed_in".into(),
        };
        let failed = CaseResult {
            name: "a <tricky> & \"quoted\" name\u{1}".into(),
            mismatches: vec![Mismatch {
                step: Some(2),
                key: "handle",
                expected: "\"jane-doe-2\"".into(),
                actual: "\"jane-doe-3\"".into(),
            }],
            explanation: "step 1: account_created\nstep 2: account_created".into(),
        };
        Report {
            files: vec![("cases/a.json".into(), vec![passed, failed])],
            load_errors: vec![CaseLoadError::NotJson {
                path: "cases/b.json".into(),
                message: "expected value at line 1 column 1".into(),
            }],
        }
    }

    #[test]
    fn the_default_text_shows_failures_and_ends_with_the_summary_alone() {
        let text = report().to_string();
        assert!(!text.contains("PASS"), "{text}");
        assert!(
            text.contains("    step 2: handle: expected \"jane-doe-2\", got \"jane-doe-3\""),
            "{text}"
        );
        assert!(
            text.contains("ERROR `cases/b.json` is not a JSON case file"),
            "{text}"
        );
        assert_eq!(text.lines().last(), Some("1 passed, 2 failed"));
        let verbose = report().verbose().to_string();
        assert!(
            verbose.starts_with("PASS cases/a.json :: fine\n"),
            "{verbose}"
        );
        assert_eq!(verbose.lines().last(), Some("1 passed, 2 failed"));
    }

    #[test]
    fn json_counts_and_lists_everything() {
        let value = report().to_json();
        assert_eq!(value["passed"], 1);
        assert_eq!(value["failed"], 2);
        assert_eq!(value["files"][0]["cases"][1]["mismatches"][0]["step"], 2);
        assert_eq!(value["load_errors"][0]["path"], "cases/b.json");
    }

    #[test]
    fn junit_is_escaped_and_counts_failures_and_errors_apart() {
        let xml = report().to_junit();
        assert!(
            xml.contains(r#"<testsuites name="policy cases" tests="3" failures="1" errors="1">"#),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"a &lt;tricky&gt; &amp; &quot;quoted&quot; name\u{fffd}\""),
            "{xml}"
        );
        assert!(
            xml.contains("<error message=\"`cases/b.json` is not"),
            "{xml}"
        );
        assert!(!xml.contains('\u{1}'));
    }
}
