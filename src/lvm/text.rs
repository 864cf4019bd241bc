//! The config text LVM2 writes its metadata in (lvm2 `libdm/libdm-config.c`).
//!
//! Grammar:
//!   text    = entry* (end of input or NUL)
//!   entry   = key "=" value | key "{" entry* "}"
//!   key     = word | string
//!   value   = scalar | "[" (scalar ","?)* "]"
//!   scalar  = int | float | string
//!   int     = ["+" | "-"] digit+                    (no leading zero: lvm2 reads it as octal)
//!   float   = ["+" | "-"] digit* "." digit*          (at least one digit)
//!   string  = '"' (char | "\" char)* '"'             (\" and \\ unescape; other \ stay)
//!           | "'" char* "'"
//!   word    = 1* of any byte but space, # = { } [ ] , " ' NUL
//! `#` starts a comment to the end of the line. Bytes that are not UTF-8 are replaced.
//! Stricter than lvm2, which never writes these: bare words as values, numbers run into
//! letters (`12ab`), and a key given twice in one section are errors.
//! Nesting is limited to `MAX_DEPTH` and the whole text to `MAX_VALUES` entries and
//! array elements. Here: the parsed text (`Section`, `Value`) and why it does not parse;
//! the tokens and the parser that builds it are `text_parser.rs`.

use std::borrow::Cow;
use std::fmt;

use super::text_parser;

/// Deepest nesting of sections (lvm2 metadata uses 4).
pub const MAX_DEPTH: usize = 64;
/// Most entries and array elements in one text.
pub const MAX_VALUES: usize = 1 << 22;

/// A section: its entries in the order of the text. Keys and strings borrow from the
/// text (a string with escapes is the only copy), so a parse allocates little and a big
/// VG's metadata is quick to read and to drop.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Section<'t> {
    pub entries: Vec<(Cow<'t, str>, Value<'t>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value<'t> {
    Int(i64),
    /// As written; LVM2 metadata has no floats that matter here.
    Float(&'t str),
    Str(Cow<'t, str>),
    /// Of scalars only.
    Array(Vec<Value<'t>>),
    Section(Section<'t>),
}

impl Value<'_> {
    /// What kind of value this is, for messages: "an integer", "a section", ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Array(_) => "an array",
            Value::Section(_) => "a section",
        }
    }
}

impl<'t> Section<'t> {
    pub fn get(&self, key: &str) -> Option<&Value<'t>> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get_int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn get_array(&self, key: &str) -> Option<&[Value<'t>]> {
        match self.get(key)? {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn get_section(&self, key: &str) -> Option<&Section<'t>> {
        match self.get(key)? {
            Value::Section(s) => Some(s),
            _ => None,
        }
    }

    /// The entries that are sections, in order.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Section<'t>)> {
        self.entries.iter().filter_map(|(k, v)| match v {
            Value::Section(s) => Some((k.as_ref(), s)),
            _ => None,
        })
    }
}

/// Where and why the text does not parse. Lines and columns count from 1; columns in
/// bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    pub line: usize,
    pub column: usize,
    pub problem: TextProblem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextProblem {
    Expected {
        expected: &'static str,
        found: String,
    },
    UnterminatedString,
    BadNumber(String),
    DuplicateKey {
        key: String,
        first_line: usize,
    },
    TooDeep,
    TooManyValues,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} column {}: ", self.line, self.column)?;
        match &self.problem {
            TextProblem::Expected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            TextProblem::UnterminatedString => write!(f, "a string is not closed"),
            TextProblem::BadNumber(n) => write!(
                f,
                "'{n}' is not a number (lvm2 writes decimal integers without leading zeros)"
            ),
            TextProblem::DuplicateKey { key, first_line } => {
                write!(f, "'{key}' appears again (first on line {first_line})")
            }
            TextProblem::TooDeep => write!(f, "sections nest deeper than {MAX_DEPTH}"),
            TextProblem::TooManyValues => write!(f, "more than {MAX_VALUES} entries and values"),
        }
    }
}

impl std::error::Error for TextError {}

/// Parses metadata text into its top-level section. A NUL ends the text. Callers with
/// bytes turn them into text with `String::from_utf8_lossy` first.
pub fn parse(text: &str) -> Result<Section<'_>, TextError> {
    text_parser::parse(text)
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
