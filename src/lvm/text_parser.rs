//! The parser of LVM2's config text (grammar: `text.rs`): a tokenizer over the bytes
//! (words, quoted strings with their escapes, punctuation, comments skipped) that counts
//! lines and columns for errors, and a recursive descent over it that builds the
//! sections, refusing duplicate keys and input past `MAX_DEPTH` or `MAX_VALUES`.

use std::borrow::Cow;
use std::collections::HashMap;

use super::text::{Section, TextError, TextProblem, Value, MAX_DEPTH, MAX_VALUES};

/// Up to this many keys, a section looks for a duplicate key by going through its entries.
const LINEAR_KEYS: usize = 16;

/// Parses metadata text into its top-level section (`text::parse`).
pub(super) fn parse(text: &str) -> Result<Section<'_>, TextError> {
    let end = text.find('\0').unwrap_or(text.len());
    let mut parser = Parser {
        src: text.get(..end).unwrap_or_default(),
        text: text.as_bytes().get(..end).unwrap_or_default(),
        pos: 0,
        line: 1,
        line_start: 0,
        values: 0,
    };
    parser.entries(0)
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    OpenArray,
    CloseArray,
    Comma,
    Equals,
    Str(Cow<'a, str>),
    Word(&'a str),
    End,
}

impl Token<'_> {
    fn describe(&self) -> String {
        match self {
            Token::Open => "'{'".into(),
            Token::Close => "'}'".into(),
            Token::OpenArray => "'['".into(),
            Token::CloseArray => "']'".into(),
            Token::Comma => "','".into(),
            Token::Equals => "'='".into(),
            Token::Str(s) => format!("the string \"{}\"", s.escape_debug()),
            Token::Word(w) => format!("'{w}'"),
            Token::End => "the end of the text".into(),
        }
    }
}

/// Where a token starts.
#[derive(Clone, Copy)]
struct Position {
    line: usize,
    column: usize,
}

struct Parser<'a> {
    src: &'a str,
    text: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    values: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Bytes that end a word: white space and punctuation.
const ENDS_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let stops = b" \t\n\r\x0b\x0c#={}[],\"'";
    let mut i = 0;
    while i < stops.len() {
        t[stops[i] as usize] = true;
        i += 1;
    }
    t
};

impl<'a> Parser<'a> {
    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.pos - self.line_start + 1,
        }
    }

    fn error(at: Position, problem: TextProblem) -> TextError {
        TextError {
            line: at.line,
            column: at.column,
            problem,
        }
    }

    fn expected(at: Position, expected: &'static str, found: &Token) -> TextError {
        Parser::error(
            at,
            TextProblem::Expected {
                expected,
                found: found.describe(),
            },
        )
    }

    fn peek_byte(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    /// Moves past one byte, counting lines.
    fn bump(&mut self) {
        if self.peek_byte() == Some(b'\n') {
            self.line += 1;
            self.line_start = self.pos + 1;
        }
        self.pos += 1;
    }

    fn skip_space_and_comments(&mut self) {
        let mut p = self.pos;
        loop {
            match self.text.get(p) {
                Some(b'\n') => {
                    p += 1;
                    self.line += 1;
                    self.line_start = p;
                }
                Some(&b) if is_space(b) => p += 1,
                Some(b'#') => {
                    let rest = self.text.get(p..).unwrap_or_default();
                    p += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                }
                _ => break,
            }
        }
        self.pos = p;
    }

    /// The next token and where it starts.
    fn next(&mut self) -> Result<(Position, Token<'a>), TextError> {
        self.skip_space_and_comments();
        let at = self.here();
        let Some(b) = self.peek_byte() else {
            return Ok((at, Token::End));
        };
        let single = match b {
            b'{' => Some(Token::Open),
            b'}' => Some(Token::Close),
            b'[' => Some(Token::OpenArray),
            b']' => Some(Token::CloseArray),
            b',' => Some(Token::Comma),
            b'=' => Some(Token::Equals),
            _ => None,
        };
        if let Some(token) = single {
            self.bump();
            return Ok((at, token));
        }
        if b == b'"' || b == b'\'' {
            return self.string(b).map(|s| (at, Token::Str(s)));
        }
        // A word has no newline, so no line to count.
        let start = self.pos;
        let rest = self.text.get(start..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| ENDS_WORD[usize::from(b)])
            .unwrap_or(rest.len());
        self.pos = start + len;
        // Words end at ASCII bytes, so the slice is on character boundaries.
        Ok((
            at,
            Token::Word(self.src.get(start..self.pos).unwrap_or_default()),
        ))
    }

    /// A quoted string; the cursor is on the opening quote.
    fn string(&mut self, quote: u8) -> Result<Cow<'a, str>, TextError> {
        let at = self.here();
        self.bump();
        // Most strings have no escapes and no newlines: take them whole.
        let rest = self.text.get(self.pos..).unwrap_or_default();
        if let Some(len) = rest
            .iter()
            .position(|&b| b == quote || b == b'\\' || b == b'\n')
        {
            if rest.get(len) == Some(&quote) {
                let s = self.src.get(self.pos..self.pos + len).unwrap_or_default();
                self.pos += len + 1;
                return Ok(Cow::Borrowed(s));
            }
        }
        let mut out = Vec::new();
        loop {
            match self.peek_byte() {
                None => return Err(Parser::error(at, TextProblem::UnterminatedString)),
                Some(b) if b == quote => {
                    self.bump();
                    return Ok(Cow::Owned(String::from_utf8_lossy(&out).into_owned()));
                }
                Some(b'\\') if quote == b'"' => {
                    self.bump();
                    match self.peek_byte() {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        Some(c) => out.extend_from_slice(&[b'\\', c]),
                        None => return Err(Parser::error(at, TextProblem::UnterminatedString)),
                    }
                    self.bump();
                }
                Some(b) => {
                    out.push(b);
                    self.bump();
                }
            }
        }
    }

    fn count_value(&mut self, at: Position) -> Result<(), TextError> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(Parser::error(at, TextProblem::TooManyValues));
        }
        Ok(())
    }

    /// Entries up to the end of the text (depth 0) or a closing brace (deeper).
    fn entries(&mut self, depth: usize) -> Result<Section<'a>, TextError> {
        let mut section = Section::default();
        // Duplicate keys: a linear look in small sections (nearly all of them), a map of
        // the keys' lines once a section grows (the list of LVs, of PVs).
        let mut lines: Vec<usize> = Vec::new();
        let mut index: HashMap<Cow<'a, str>, usize> = HashMap::new();
        loop {
            let (at, token) = self.next()?;
            let key = match token {
                Token::End if depth == 0 => return Ok(section),
                Token::Close if depth > 0 => return Ok(section),
                Token::Word(w) => Cow::Borrowed(w),
                Token::Str(s) if !s.is_empty() => s,
                other => {
                    let expected = if depth == 0 { "a key" } else { "a key or '}'" };
                    return Err(Parser::expected(at, expected, &other));
                }
            };
            self.count_value(at)?;
            let n = section.entries.len();
            if n == LINEAR_KEYS {
                index = (section.entries.iter().map(|(k, _)| k.clone()))
                    .zip(lines.iter().copied())
                    .collect();
            }
            let earlier = if n < LINEAR_KEYS {
                section
                    .entries
                    .iter()
                    .position(|(k, _)| *k == key)
                    .and_then(|i| lines.get(i).copied())
            } else {
                index.get(&key).copied()
            };
            if let Some(first_line) = earlier {
                return Err(Parser::error(
                    at,
                    TextProblem::DuplicateKey {
                        key: key.into_owned(),
                        first_line,
                    },
                ));
            }
            if n >= LINEAR_KEYS {
                index.insert(key.clone(), at.line);
            } else {
                lines.push(at.line);
            }
            let (at, token) = self.next()?;
            let value = match token {
                Token::Equals => self.value()?,
                Token::Open if depth >= MAX_DEPTH => {
                    return Err(Parser::error(at, TextProblem::TooDeep))
                }
                Token::Open => Value::Section(self.entries(depth + 1)?),
                other => return Err(Parser::expected(at, "'=' or '{' after a key", &other)),
            };
            section.entries.push((key, value));
        }
    }

    /// The value after '='.
    fn value(&mut self) -> Result<Value<'a>, TextError> {
        let (at, token) = self.next()?;
        if token != Token::OpenArray {
            return Parser::scalar(at, token, "a value");
        }
        let mut items = Vec::new();
        loop {
            let (at, token) = self.next()?;
            if token == Token::CloseArray {
                return Ok(Value::Array(items));
            }
            self.count_value(at)?;
            items.push(Parser::scalar(at, token, "a number, a string or ']'")?);
            self.skip_space_and_comments();
            if self.peek_byte() == Some(b',') {
                self.bump();
            }
        }
    }

    fn scalar(
        at: Position,
        token: Token<'a>,
        expected: &'static str,
    ) -> Result<Value<'a>, TextError> {
        match token {
            Token::Str(s) => Ok(Value::Str(s)),
            Token::Word(w)
                if w.as_bytes()
                    .first()
                    .is_some_and(|b| b"+-.0123456789".contains(b)) =>
            {
                number(w).ok_or_else(|| Parser::error(at, TextProblem::BadNumber(w.to_string())))
            }
            other => Err(Parser::expected(at, expected, &other)),
        }
    }
}

/// An int or float word, or `None` when it is neither.
fn number(text: &str) -> Option<Value<'_>> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let digits = unsigned.bytes().filter(u8::is_ascii_digit).count();
    let dots = unsigned.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || digits + dots != unsigned.len() || dots > 1 {
        return None;
    }
    if dots == 1 {
        return Some(Value::Float(text));
    }
    if unsigned.len() > 1 && unsigned.starts_with('0') {
        return None;
    }
    text.parse().ok().map(Value::Int)
}
