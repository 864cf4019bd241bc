//! Scalars inside option values: decimal integers and booleans.
//!
//! Grammar:
//!   unsigned = 1*DIGIT                  ; no sign, no "0x", no unit suffix
//!   signed   = ["+" | "-"] 1*DIGIT
//!   boolean  = "1" | "yes" | "true" | "on" | "0" | "no" | "false" | "off"   ; any case
//!   kernel-boolean = ("1" | "y" | "Y" | "t" | "T" | "on" | "ON") *CHAR         ; kstrtobool,
//!                  | ("0" | "n" | "N" | "f" | "F" | "of" | "OF") *CHAR        ; as the kernel
//! Every parser says why it refused, in words that fit after "option 'x=...': ".

/// A decimal unsigned integer that fits in `T`.
pub(crate) fn unsigned<T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{text}' is not a decimal number"));
    }
    text.parse::<u64>()
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("{text} is too large"))
}

/// A decimal integer with an optional sign.
pub(crate) fn signed(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{text}' is not a decimal number"));
    }
    text.parse::<i64>()
        .map_err(|_| format!("{text} is out of range"))
}

/// A boolean as the kernel reads a module parameter (`kstrtobool`): the first letter (two
/// for on/off) decides, so that verinit and the kernel agree on every spelling.
pub(crate) fn kernel_boolean(text: &str) -> Result<bool, String> {
    let b = text.as_bytes();
    match (b.first(), b.get(1)) {
        (Some(b'1' | b'y' | b'Y' | b't' | b'T'), _) => Ok(true),
        (Some(b'0' | b'n' | b'N' | b'f' | b'F'), _) => Ok(false),
        (Some(b'o' | b'O'), Some(b'n' | b'N')) => Ok(true),
        (Some(b'o' | b'O'), Some(b'f' | b'F')) => Ok(false),
        _ => Err(format!(
            "'{text}' is not a boolean the kernel reads: use 1/0, y/n or on/off"
        )),
    }
}

/// A boolean as systemd writes one.
pub(crate) fn boolean(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err(format!(
            "'{text}' is not a boolean: use yes/no, true/false, on/off or 1/0"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_numbers() {
        assert_eq!(unsigned::<u64>("0"), Ok(0));
        assert_eq!(unsigned::<u64>("0042"), Ok(42));
        assert_eq!(unsigned::<u64>("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(unsigned::<u32>("4294967295"), Ok(u32::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            "1s",
            " 1",
            "0x10",
            "1.5",
            "18446744073709551616",
        ] {
            assert!(unsigned::<u64>(bad).is_err(), "{bad:?}");
        }
        assert!(unsigned::<u32>("4294967296").is_err());
    }

    #[test]
    fn signed_numbers() {
        for (text, n) in [
            ("0", 0),
            ("-1", -1),
            ("+7", 7),
            ("30", 30),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(signed(text), Ok(n), "{text}");
        }
        for bad in [
            "",
            "-",
            "+",
            "--1",
            "1-",
            "0x10",
            "9223372036854775808",
            "five",
        ] {
            assert!(signed(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn booleans() {
        for yes in ["1", "yes", "true", "on", "YES", "True"] {
            assert_eq!(boolean(yes), Ok(true), "{yes}");
        }
        for no in ["0", "no", "false", "off", "OFF"] {
            assert_eq!(boolean(no), Ok(false), "{no}");
        }
        for bad in ["", "2", "y", "enable", "yes "] {
            assert!(boolean(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kernel_booleans() {
        for yes in ["1", "y", "Y", "yes", "true", "T", "on", "ON", "1x"] {
            assert_eq!(kernel_boolean(yes), Ok(true), "{yes}");
        }
        for no in ["0", "n", "N", "no", "false", "F", "off", "OFF"] {
            assert_eq!(kernel_boolean(no), Ok(false), "{no}");
        }
        for bad in ["", "2", "o", "enable", " 1"] {
            assert!(kernel_boolean(bad).is_err(), "{bad:?}");
        }
    }
}
