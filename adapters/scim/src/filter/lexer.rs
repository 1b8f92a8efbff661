//! The tokens of a filter or a PATCH path.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A run of characters up to a space, a bracket, a parenthesis or a quote: an
    /// attribute path, an operator, a keyword, a number or a bare literal.
    Word(&'a str),
    /// A JSON string, its escapes decoded.
    Str(String),
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::LParen => f.write_str("("),
            Token::RParen => f.write_str(")"),
            Token::LBracket => f.write_str("["),
            Token::RBracket => f.write_str("]"),
            Token::Word(word) => f.write_str(word),
            Token::Str(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned<'a> {
    pub(crate) token: Token<'a>,
    /// Where the token starts, in characters from 1, for error details.
    pub(crate) at: usize,
    /// No space between this token and the one before.
    pub(crate) glued: bool,
}

#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn ends_word(b: u8) -> bool {
    is_space(b) || matches!(b, b'(' | b')' | b'[' | b']' | b'"')
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The character position (from 1) of byte offset `pos`.
    pub(crate) fn char_at(&self, pos: usize) -> usize {
        self.src.get(..pos).map_or(pos, |s| s.chars().count()) + 1
    }

    pub(crate) fn next_token(&mut self) -> Result<Option<Spanned<'a>>, String> {
        let bytes = self.src.as_bytes();
        let start_pos = self.pos;
        while bytes.get(self.pos).is_some_and(|b| is_space(*b)) {
            self.pos += 1;
        }
        let glued = self.pos == start_pos;
        let start = self.pos;
        let Some(&first) = bytes.get(start) else {
            return Ok(None);
        };
        let at = self.char_at(start);
        let token = match first {
            b'(' => {
                self.pos += 1;
                Token::LParen
            }
            b')' => {
                self.pos += 1;
                Token::RParen
            }
            b'[' => {
                self.pos += 1;
                Token::LBracket
            }
            b']' => {
                self.pos += 1;
                Token::RBracket
            }
            b'"' => {
                let mut i = start + 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(format!(
                                "the string starting at character {at} has no closing quote"
                            ))
                        }
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                self.pos = i + 1;
                let literal = self.src.get(start..=i).unwrap_or_default();
                match serde_json::from_str::<String>(literal) {
                    Ok(s) => Token::Str(s),
                    Err(error) => {
                        return Err(format!(
                        "the string starting at character {at} is not a valid JSON string: {error}"
                    ))
                    }
                }
            }
            _ => {
                let mut i = start;
                while bytes.get(i).is_some_and(|b| !ends_word(*b)) {
                    i += 1;
                }
                self.pos = i;
                Token::Word(self.src.get(start..i).unwrap_or_default())
            }
        };
        Ok(Some(Spanned { token, at, glued }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Result<Vec<Token<'_>>, String> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        while let Some(t) = lexer.next_token()? {
            out.push(t.token);
        }
        Ok(out)
    }

    #[test]
    fn splits_words_strings_and_brackets() {
        assert_eq!(
            tokens(r#"emails[type eq "wo\"rk"].value"#),
            Ok(vec![
                Token::Word("emails"),
                Token::LBracket,
                Token::Word("type"),
                Token::Word("eq"),
                Token::Str("wo\"rk".into()),
                Token::RBracket,
                Token::Word(".value"),
            ])
        );
        assert_eq!(
            tokens(r#""\u00e9t\u00e9""#),
            Ok(vec![Token::Str("été".into())])
        );
    }

    #[test]
    fn refuses_unterminated_and_bad_strings() {
        assert!(tokens(r#"userName eq "abc"#).is_err());
        assert!(tokens(r#"userName eq "abc\"#).is_err());
        assert!(tokens(r#"userName eq "\x41""#).is_err());
    }
}
