//! Randomness from the operating system, for keys, serials and XML ids.

use core::convert::Infallible;

use rsa::rand_core::{TryCryptoRng, TryRng};

use super::TestIdpError;

/// Fills `bytes` from the operating system's generator.
pub(super) fn fill(bytes: &mut [u8]) -> Result<(), TestIdpError> {
    getrandom::fill(bytes).map_err(TestIdpError::Random)
}

/// A fresh XML id: `_` and 40 lowercase hex digits (160 random bits).
///
/// The leading underscore keeps it an `xs:ID` (an NCName cannot start with a digit).
pub(super) fn xml_id() -> Result<String, TestIdpError> {
    let mut bytes = [0u8; 20];
    fill(&mut bytes)?;
    let mut id = String::with_capacity(41);
    id.push('_');
    for byte in bytes {
        id.push(hex_digit(byte >> 4));
        id.push(hex_digit(byte & 0x0f));
    }
    Ok(id)
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

/// The operating system's generator as the infallible `CryptoRng` that `rsa` asks for.
///
/// `getrandom` can fail; `rsa`'s key generation cannot be told so. On a failure this
/// generator remembers it and hands out zeros; [`OsRng::check`] then turns the
/// remembered failure into an error, and whatever was made from the zeros is dropped.
#[derive(Debug, Default)]
pub(super) struct OsRng {
    failure: Option<getrandom::Error>,
}

impl OsRng {
    /// A generator with no failure recorded.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// `Err` when any draw from the operating system failed.
    pub(super) fn check(&self) -> Result<(), TestIdpError> {
        match self.failure {
            Some(error) => Err(TestIdpError::Random(error)),
            None => Ok(()),
        }
    }

    fn draw(&mut self, dst: &mut [u8]) {
        if let Err(error) = getrandom::fill(dst) {
            dst.fill(0);
            self.failure.get_or_insert(error);
        }
    }
}

impl TryRng for OsRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0u8; 4];
        self.draw(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0u8; 8];
        self.draw(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.draw(dst);
        Ok(())
    }
}

impl TryCryptoRng for OsRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::rand_core::Rng as _;

    #[test]
    fn ids_are_ncnames_and_distinct() {
        let a = xml_id().expect("id");
        let b = xml_id().expect("id");
        assert_ne!(a, b);
        assert_eq!(a.len(), 41);
        assert!(a.starts_with('_'));
        assert!(a
            .chars()
            .skip(1)
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    }

    #[test]
    fn generator_draws_and_reports_no_failure() {
        let mut rng = OsRng::new();
        let mut bytes = [0u8; 64];
        rng.fill_bytes(&mut bytes);
        assert!(bytes.iter().any(|b| *b != 0));
        assert_ne!(rng.next_u64(), rng.next_u64());
        rng.check().expect("no failure");
    }
}
