//! Splitting `/proc/cmdline` text into words, as the kernel's `next_arg` (lib/cmdline.c) does.
//!
//! Grammar:
//!   line   = *space *(word 1*space) ["--" *(space word)]
//!   word   = 1*(plain | quoted)       ; ends at whitespace outside double quotes
//!   quoted = '"' *(any but '"') '"'   ; an unterminated quote runs to the end of the line
//!   option = key ["=" value]          ; split at the first '=' once quotes are removed
//!   space  = SP | HT | LF | VT | FF | CR
//! Quotes group words and are removed, all of them: `a="b c"` and `"a=b c"` both give key
//! `a`, value `b c`. (The kernel keeps a quote that opens in the middle of a value; systemd,
//! which reads the same line, removes it. We follow systemd.) Every word after a bare `--`
//! belongs to init. Keys compare with '-' and '_' alike, as the kernel's `parameq` does:
//! `Word::key` has every '-' turned into '_'.

/// One option word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    /// The word exactly as written, quotes included: what error messages quote.
    pub written: &'a str,
    /// The key, quotes removed and every '-' turned into '_'.
    pub key: String,
    /// The value, quotes removed; `None` when the word has no '='.
    pub value: Option<String>,
}

/// A command line split into option words and init's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Words<'a> {
    pub options: Vec<Word<'a>>,
    /// The words after `--`, quotes removed.
    pub init_args: Vec<String>,
    /// The text from `--` to the end of the line, as written; `None` without `--`.
    pub after_dashes: Option<&'a str>,
}

/// The kernel's `isspace` over ASCII.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Each word with its byte offset, quotes kept.
fn raw_words(text: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut in_quote = false;
    for (i, c) in text.char_indices() {
        match start {
            None if is_space(c) => {}
            None => {
                start = Some(i);
                in_quote = c == '"';
            }
            Some(_) if c == '"' => in_quote = !in_quote,
            Some(s) if is_space(c) && !in_quote => {
                if let Some(word) = text.get(s..i) {
                    words.push((s, word));
                }
                start = None;
            }
            Some(_) => {}
        }
    }
    if let Some(word) = start.and_then(|s| Some((s, text.get(s..)?))) {
        words.push(word);
    }
    words
}

fn unquote(word: &str) -> String {
    word.chars().filter(|&c| c != '"').collect()
}

/// A key as compared: '-' and '_' alike.
pub(crate) fn normalize_key(key: &str) -> String {
    key.replace('-', "_")
}

/// Splits a command line into option words and init's arguments.
pub(crate) fn tokenize(text: &str) -> Words<'_> {
    let mut words = Words::default();
    let mut raw = raw_words(text).into_iter();
    for (offset, written) in raw.by_ref() {
        if written == "--" {
            words.after_dashes = text
                .get(offset..)
                .map(|rest| rest.trim_end_matches(is_space));
            break;
        }
        let plain = unquote(written);
        let (key, value) = match plain.split_once('=') {
            Some((key, value)) => (key, Some(value.to_string())),
            None => (plain.as_str(), None),
        };
        words.options.push(Word {
            written,
            key: normalize_key(key),
            value,
        });
    }
    words.init_args = raw.map(|(_, word)| unquote(word)).collect();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> Vec<(String, Option<String>)> {
        tokenize(text)
            .options
            .into_iter()
            .map(|w| (w.key, w.value))
            .collect()
    }

    /// (input line, expected (key, value) pairs).
    type OptionCase = (
        &'static str,
        &'static [(&'static str, Option<&'static str>)],
    );
    /// (input line, expected keys, init's arguments, text from `--`).
    type DashCase = (
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
        Option<&'static str>,
    );

    fn kv(key: &str, value: Option<&str>) -> (String, Option<String>) {
        (key.to_string(), value.map(str::to_string))
    }

    #[test]
    fn words_keys_and_values() {
        let cases: &[OptionCase] = &[
            ("", &[]),
            ("   \t\n", &[]),
            ("ro", &[("ro", None)]),
            ("  ro   rw\n", &[("ro", None), ("rw", None)]),
            ("root=/dev/vda2", &[("root", Some("/dev/vda2"))]),
            ("a=b=c", &[("a", Some("b=c"))]),
            ("a=", &[("a", Some(""))]),
            ("=x", &[("", Some("x"))]),
            (
                "a\tb\x0bc\x0cd\re",
                &[
                    ("a", None),
                    ("b", None),
                    ("c", None),
                    ("d", None),
                    ("e", None),
                ],
            ),
            // Quotes group and are removed.
            (r#"a="b c" d"#, &[("a", Some("b c")), ("d", None)]),
            (r#""a=b c" d"#, &[("a", Some("b c")), ("d", None)]),
            (r#"a=x"b c"y"#, &[("a", Some("xb cy"))]),
            (r#""a"=b"#, &[("a", Some("b"))]),
            (r#"a="""#, &[("a", Some(""))]),
            // An unterminated quote runs to the end.
            (r#"a="b c d"#, &[("a", Some("b c d"))]),
            (r#"x "a=b c"#, &[("x", None), ("a", Some("b c"))]),
            // Dashes and underscores in keys compare alike; values are kept.
            (
                "systemd.verity-root-data=a-b_c",
                &[("systemd.verity_root_data", Some("a-b_c"))],
            ),
            // Not ASCII: kept as is.
            ("LABEL=räksmörgås", &[("LABEL", Some("räksmörgås"))]),
        ];
        for (text, expected) in cases {
            let expected: Vec<_> = expected.iter().map(|&(k, v)| kv(k, v)).collect();
            assert_eq!(options(text), expected, "{text:?}");
        }
    }

    #[test]
    fn written_is_the_word_with_its_quotes() {
        let words = tokenize(r#"  init="/sbin/my init"  "rootflags=a b" "#);
        let written: Vec<_> = words.options.iter().map(|w| w.written).collect();
        assert_eq!(written, [r#"init="/sbin/my init""#, r#""rootflags=a b""#]);
    }

    #[test]
    fn words_after_dashes_belong_to_init() {
        let cases: &[DashCase] = &[
            ("ro", &["ro"], &[], None),
            ("ro --", &["ro"], &[], Some("--")),
            ("ro -- ", &["ro"], &[], Some("--")),
            ("ro -- single", &["ro"], &["single"], Some("-- single")),
            (
                r#"ro -- rw root=x "a b" -- c=d"#,
                &["ro"],
                &["rw", "root=x", "a b", "--", "c=d"],
                Some(r#"-- rw root=x "a b" -- c=d"#),
            ),
            // Not a bare `--`: an option like any other.
            ("--x -- y", &["__x"], &["y"], Some("-- y")),
            ("a=-- b", &["a", "b"], &[], None),
            // A quoted `--` is a word, not the separator.
            (r#""--" b"#, &["__", "b"], &[], None),
        ];
        for &(text, keys, init_args, after) in cases {
            let words = tokenize(text);
            let got: Vec<_> = words.options.iter().map(|w| w.key.as_str()).collect();
            assert_eq!(got, keys, "{text:?}");
            assert_eq!(words.init_args, init_args, "{text:?}");
            assert_eq!(words.after_dashes, after, "{text:?}");
        }
    }
}
