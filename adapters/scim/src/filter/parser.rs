//! A recursive-descent parser whose recursion is bounded by the nesting limit.
//!
//! Precedence, loosest first: `or`, `and`, then `not (…)`, parentheses, value paths and
//! comparisons. Keywords and operators are case-insensitive (ABNF strings are).

use serde_json::Number;

use super::lexer::{Lexer, Spanned, Token};
use super::{canonical, is_attr_name, parse_attr_path, AttrPath, CompValue, CompareOp, Filter};

#[derive(Debug)]
pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Option<Spanned<'a>>>,
    depth: usize,
    max_depth: usize,
}

const OPERATORS: &str = "eq, ne, co, sw, ew, gt, ge, lt, le or pr";

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, max_depth: usize) -> Self {
        Parser {
            lexer: Lexer::new(src),
            peeked: None,
            depth: 0,
            max_depth,
        }
    }

    /// A whole filter, and nothing after it.
    pub(crate) fn filter(mut self) -> Result<Filter, String> {
        let filter = self.or_level(false)?;
        self.end()?;
        Ok(filter)
    }

    /// A whole PATCH path: `attrPath`, or `attrPath[valFilter]` with an optional
    /// `.subAttr` after it (RFC 7644 §3.5.2).
    pub(crate) fn patch_path(
        mut self,
    ) -> Result<(AttrPath, Option<Filter>, Option<String>), String> {
        let first = self.next()?.ok_or_else(|| "the path is empty".to_owned())?;
        let Token::Word(word) = first.token else {
            return Err(format!(
                "the path must start with an attribute name, not `{}`",
                first.token
            ));
        };
        let path = parse_attr_path(word)?;
        if !matches!(self.peek()?, Some(Token::LBracket)) {
            self.end()?;
            return Ok((path, None, None));
        }
        if path.sub_attribute.is_some() {
            return Err(format!(
                "a value filter follows an attribute, not a sub-attribute (`{word}[`)"
            ));
        }
        self.next()?;
        self.enter()?;
        let filter = self.or_level(true)?;
        self.expect_close(Token::RBracket, first.at)?;
        self.leave();
        let sub = match self.next()? {
            None => None,
            Some(Spanned {
                token: Token::Word(w),
                glued: true,
                ..
            }) => Some(self.sub_after_bracket(w)?),
            Some(other) => {
                return Err(format!(
                    "unexpected `{}` at character {}",
                    other.token, other.at
                ))
            }
        };
        self.end()?;
        Ok((path, Some(filter), sub))
    }

    fn sub_after_bracket(&self, word: &str) -> Result<String, String> {
        match word.strip_prefix('.') {
            Some(sub) if is_attr_name(sub) => Ok(canonical(sub)),
            _ => Err(format!(
                "`{word}` after `]` is not a sub-attribute; write `].value`"
            )),
        }
    }

    fn next(&mut self) -> Result<Option<Spanned<'a>>, String> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    fn peek_spanned(&mut self) -> Result<Option<&Spanned<'a>>, String> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        Ok(self.peeked.as_ref().and_then(Option::as_ref))
    }

    fn peek(&mut self) -> Result<Option<&Token<'a>>, String> {
        Ok(self.peek_spanned()?.map(|s| &s.token))
    }

    fn peek_keyword(&mut self, keyword: &str) -> Result<bool, String> {
        Ok(matches!(self.peek()?, Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword)))
    }

    fn end(&mut self) -> Result<(), String> {
        match self.next()? {
            None => Ok(()),
            Some(extra) => Err(format!(
                "unexpected `{}` at character {}",
                extra.token, extra.at
            )),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(format!(
                "the filter nests more than {} levels deep",
                self.max_depth
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn expect_close(&mut self, close: Token<'static>, opened_at: usize) -> Result<(), String> {
        match self.next()? {
            Some(t) if t.token == close => Ok(()),
            Some(t) => Err(format!(
                "expected `{close}` to close the one at character {opened_at}, found `{}` at character {}",
                t.token, t.at
            )),
            None => Err(format!("the `{}` at character {opened_at} is never closed", opening(&close))),
        }
    }

    fn or_level(&mut self, in_value_path: bool) -> Result<Filter, String> {
        let mut items = vec![self.and_level(in_value_path)?];
        while self.peek_keyword("or")? {
            self.next()?;
            items.push(self.and_level(in_value_path)?);
        }
        Ok(Filter::or(items))
    }

    fn and_level(&mut self, in_value_path: bool) -> Result<Filter, String> {
        let mut items = vec![self.unary(in_value_path)?];
        while self.peek_keyword("and")? {
            self.next()?;
            items.push(self.unary(in_value_path)?);
        }
        Ok(Filter::and(items))
    }

    fn unary(&mut self, in_value_path: bool) -> Result<Filter, String> {
        let Some(spanned) = self.next()? else {
            return Err("the filter ends where an expression was expected".into());
        };
        match spanned.token {
            Token::LParen => {
                self.enter()?;
                let inner = self.or_level(in_value_path)?;
                self.expect_close(Token::RParen, spanned.at)?;
                self.leave();
                Ok(inner)
            }
            Token::Word(word) if word.eq_ignore_ascii_case("not") => {
                if !matches!(self.peek()?, Some(Token::LParen)) {
                    return Err(format!(
                        "`not` at character {} must be followed by a filter in parentheses, as in `not (active eq true)`",
                        spanned.at
                    ));
                }
                let open = self.next()?.map_or(spanned.at, |t| t.at);
                self.enter()?;
                let inner = self.or_level(in_value_path)?;
                self.expect_close(Token::RParen, open)?;
                self.leave();
                Ok(Filter::Not(Box::new(inner)))
            }
            Token::Word(word) => self.attribute_expression(word, spanned.at, in_value_path),
            other => Err(format!(
                "expected an attribute name at character {}, found `{other}`",
                spanned.at
            )),
        }
    }

    fn attribute_expression(
        &mut self,
        word: &'a str,
        at: usize,
        in_value_path: bool,
    ) -> Result<Filter, String> {
        let path = parse_attr_path(word).map_err(|e| format!("{e} at character {at}"))?;
        if !matches!(self.peek()?, Some(Token::LBracket)) {
            return self.comparison(path, at);
        }
        if in_value_path {
            return Err(format!(
                "value filters cannot nest: `{word}[` at character {at} is inside another"
            ));
        }
        if path.sub_attribute.is_some() {
            return Err(format!(
                "a value filter follows an attribute, not a sub-attribute (`{word}[` at character {at})"
            ));
        }
        let open = self.next()?.map_or(at, |t| t.at);
        self.enter()?;
        let inner = self.or_level(true)?;
        self.expect_close(Token::RBracket, open)?;
        self.leave();
        // Entra ID queries `emails[type eq "work"].value eq "…"`, which RFC 7644 allows in
        // PATCH paths but not in filters. It is read as the value filter it means:
        // `emails[type eq "work" and value eq "…"]`.
        let glued_sub = match self.peek_spanned()? {
            Some(Spanned {
                token: Token::Word(w),
                glued: true,
                ..
            }) if w.starts_with('.') => Some(*w),
            _ => None,
        };
        if let Some(w) = glued_sub {
            let sub_at = self.next()?.map_or(at, |t| t.at);
            let sub = self.sub_after_bracket(w)?;
            let comparison = self.comparison(AttrPath::new(&sub), sub_at)?;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(Filter::and(vec![inner, comparison])),
            });
        }
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(inner),
        })
    }

    fn comparison(&mut self, path: AttrPath, at: usize) -> Result<Filter, String> {
        let Some(spanned) = self.next()? else {
            return Err(format!(
                "`{path}` at character {at} needs an operator: {OPERATORS}"
            ));
        };
        let Token::Word(word) = spanned.token else {
            return Err(format!(
                "`{path}` at character {at} needs an operator ({OPERATORS}), found `{}`",
                spanned.token
            ));
        };
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::parse(word).ok_or_else(|| {
            format!(
                "`{word}` at character {} is not an operator; use one of {OPERATORS}",
                spanned.at
            )
        })?;
        let value = self.value(op)?;
        let refuse = |what: &str| {
            Err(format!(
                "`{}` cannot compare with {what} (after `{path}`)",
                op.as_str()
            ))
        };
        match (&value, op) {
            (CompValue::String(_), _) => {}
            (_, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
                return refuse("anything but a string")
            }
            (CompValue::Bool(_), CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le) => {
                return refuse("a boolean")
            }
            (CompValue::Null, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le) => {
                return refuse("null")
            }
            _ => {}
        }
        Ok(Filter::Compare { path, op, value })
    }

    fn value(&mut self, op: CompareOp) -> Result<CompValue, String> {
        let Some(spanned) = self.next()? else {
            return Err(format!(
                "the filter ends where a value was expected after `{}`",
                op.as_str()
            ));
        };
        match spanned.token {
            Token::Str(s) => Ok(CompValue::String(s)),
            Token::Word(w) if w.eq_ignore_ascii_case("true") => Ok(CompValue::Bool(true)),
            Token::Word(w) if w.eq_ignore_ascii_case("false") => Ok(CompValue::Bool(false)),
            Token::Word(w) if w.eq_ignore_ascii_case("null") => Ok(CompValue::Null),
            Token::Word(w) => match serde_json::from_str::<Number>(w) {
                Ok(n) => Ok(CompValue::Number(n)),
                // Entra ID's documentation shows `externalId eq jyoung`, and Microsoft's
                // SCIM reference code accepts such bare words: read one as the string it
                // means (printed quoted).
                Err(_) => Ok(CompValue::String(w.to_owned())),
            },
            other => Err(format!(
                "expected a value at character {}, found `{other}`",
                spanned.at
            )),
        }
    }
}

fn opening(close: &Token<'_>) -> &'static str {
    match close {
        Token::RBracket => "[",
        _ => "(",
    }
}
