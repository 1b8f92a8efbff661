//! What a test's code logs, captured as text.

use std::sync::{Arc, Mutex};

/// A writer for `tracing_subscriber` that keeps every line.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn subscriber(&self, level: tracing::Level) -> impl tracing::Subscriber + Send + Sync {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish()
    }

    /// Captures what this thread logs at `level` and above until the guard is dropped.
    pub fn set_default(&self, level: tracing::Level) -> tracing::subscriber::DefaultGuard {
        let guard = tracing::subscriber::set_default(self.subscriber(level));
        // Another test's thread may have cached a callsite's interest while no
        // subscriber wanted it: ask again now that this one does.
        tracing::callsite::rebuild_interest_cache();
        guard
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
