//! `systemd.verity_root_options=`: veritytab options (systemd `src/veritysetup/veritysetup.c`).
//!
//! Grammar:
//!   options = [item *("," item)]         ; empty items are skipped; "\," is a comma, "\\" a '\'
//!   item    = flag | key "=" value
//!   flag    = "ignore-corruption" | "restart-on-corruption" | "panic-on-corruption"
//!           | "error-as-corruption" | "ignore-zero-blocks" | "check-at-most-once"
//!   key     = "superblock" (boolean) | "format" (0 or 1)
//!           | "data-block-size" | "hash-block-size"   (a power of two, 512..=65536)
//!           | "data-blocks" | "hash-offset" (bytes, a multiple of 512)
//!           | "salt" (hex up to 256 bytes; "-" or empty: no salt) | "uuid" (GUID)
//!           | "hash" (algorithm, [a-z0-9-]) | "fec-device" (device) | "fec-offset" (bytes,
//!           a multiple of 512) | "fec-roots" (2..=24) | "root-hash-signature" (path or base64:)
//! A key given twice: the last one counts. At most one corruption mode. An unknown key is an
//! error: whoever wrote it meant something.
//!
//! `error-as-corruption` (cryptsetup's `--error-as-corruption`, Linux 6.12's dm-verity
//! `restart_on_error` / `panic_on_error`): an I/O error reading the data or hash device
//! restarts or panics the machine as a corrupted block does. It goes with
//! `restart-on-corruption` (then `restart_on_error`) or `panic-on-corruption` (then
//! `panic_on_error`), as cryptsetup requires; alone or with `ignore-corruption` it is an
//! error.

use std::fmt;

use super::device_spec::DeviceSpec;
use super::scalar::{boolean, unsigned};
use crate::id::{decode_hex, encode_hex, Guid};

/// What dm-verity does when a block does not match its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorruptionMode {
    Ignore,
    Restart,
    Panic,
}

/// The options of a veritytab line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerityOptions {
    pub superblock: Option<bool>,
    pub format: Option<u32>,
    pub data_block_size: Option<u32>,
    pub hash_block_size: Option<u32>,
    pub data_blocks: Option<u64>,
    /// Bytes.
    pub hash_offset: Option<u64>,
    /// Empty for "no salt".
    pub salt: Option<Vec<u8>>,
    pub uuid: Option<Guid>,
    /// Algorithm name, lowercased.
    pub hash: Option<String>,
    pub corruption: Option<CorruptionMode>,
    /// An I/O error counts as corruption (restart or panic); only with `Restart`/`Panic`.
    pub error_as_corruption: bool,
    pub ignore_zero_blocks: bool,
    pub check_at_most_once: bool,
    pub fec_device: Option<DeviceSpec>,
    /// Bytes.
    pub fec_offset: Option<u64>,
    pub fec_roots: Option<u32>,
    pub root_hash_signature: Option<String>,
}

/// Longest salt cryptsetup accepts.
const SALT_MAX: usize = 256;

/// Keys that take a value, and flags that take none.
const VALUED: [&str; 13] = [
    "superblock",
    "format",
    "data-block-size",
    "hash-block-size",
    "data-blocks",
    "hash-offset",
    "salt",
    "uuid",
    "hash",
    "fec-device",
    "fec-offset",
    "fec-roots",
    "root-hash-signature",
];
const FLAGS: [&str; 6] = [
    "ignore-corruption",
    "restart-on-corruption",
    "panic-on-corruption",
    "error-as-corruption",
    "ignore-zero-blocks",
    "check-at-most-once",
];

fn known_keys() -> String {
    let valued = VALUED.iter().map(|k| format!("{k}="));
    let flags = FLAGS.iter().map(|k| k.to_string());
    valued.chain(flags).collect::<Vec<_>>().join(" ")
}

impl CorruptionMode {
    fn flag(self) -> &'static str {
        match self {
            CorruptionMode::Ignore => "ignore-corruption",
            CorruptionMode::Restart => "restart-on-corruption",
            CorruptionMode::Panic => "panic-on-corruption",
        }
    }
}

impl fmt::Display for CorruptionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

/// Splits at commas not escaped by a backslash, undoing the escapes.
fn split_items(text: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => chars.next().unwrap_or('\\'),
            ',' => {
                items.push(String::new());
                continue;
            }
            c => c,
        };
        if let Some(item) = items.last_mut() {
            item.push(c);
        }
    }
    items.retain(|item| !item.is_empty());
    items
}

fn block_size(value: &str) -> Result<u32, String> {
    let n: u32 = unsigned(value)?;
    if (512..=65536).contains(&n) && n.is_power_of_two() {
        Ok(n)
    } else {
        Err(format!("{n} is not a power of two from 512 to 65536"))
    }
}

fn sector_aligned_bytes(value: &str) -> Result<u64, String> {
    let n: u64 = unsigned(value)?;
    if n % 512 == 0 {
        Ok(n)
    } else {
        Err(format!("{n} is not a multiple of 512 bytes"))
    }
}

fn salt(value: &str) -> Result<Vec<u8>, String> {
    if value.is_empty() || value == "-" {
        return Ok(Vec::new());
    }
    let bytes = decode_hex(value)
        .ok_or_else(|| format!("'{value}' is not an even number of hex digits"))?;
    if bytes.len() > SALT_MAX {
        return Err(format!(
            "{} bytes; a salt has at most {SALT_MAX}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn hash_algorithm(value: &str) -> Result<String, String> {
    let name = value.to_ascii_lowercase();
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if name.is_empty() || !name.chars().all(ok) {
        return Err(format!(
            "'{value}' is not a hash algorithm name such as sha256"
        ));
    }
    Ok(name)
}

fn signature(value: &str) -> Result<String, String> {
    if value.starts_with('/') || value.starts_with("base64:") {
        Ok(value.to_string())
    } else {
        Err(format!(
            "'{value}' is neither an absolute path nor base64:<signature>"
        ))
    }
}

impl VerityOptions {
    /// Parses a veritytab option list; on failure, one message per bad item.
    pub fn parse(text: &str) -> Result<VerityOptions, Vec<String>> {
        let mut options = VerityOptions::default();
        let mut errors = Vec::new();
        for item in split_items(text) {
            if let Err(why) = options.apply(&item) {
                errors.push(format!("veritytab option '{item}': {why}"));
            }
        }
        if options.error_as_corruption
            && !matches!(
                options.corruption,
                Some(CorruptionMode::Restart | CorruptionMode::Panic)
            )
        {
            errors.push(format!(
                "veritytab option 'error-as-corruption' restarts or panics on an I/O error as \
                 on a corrupted block, so it needs restart-on-corruption or panic-on-corruption \
                 beside it ({}): add one of them",
                match options.corruption {
                    Some(mode) => format!("{mode} was given"),
                    None => "neither was given".into(),
                }
            ));
        }
        if errors.is_empty() {
            Ok(options)
        } else {
            Err(errors)
        }
    }

    fn apply(&mut self, item: &str) -> Result<(), String> {
        let (key, value) = match item.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (item, None),
        };
        let corruption = match key {
            "ignore-corruption" => Some(CorruptionMode::Ignore),
            "restart-on-corruption" => Some(CorruptionMode::Restart),
            "panic-on-corruption" => Some(CorruptionMode::Panic),
            _ => None,
        };
        let value = match value {
            Some(_) if FLAGS.contains(&key) => return Err(format!("{key} takes no value")),
            None if VALUED.contains(&key) => return Err(format!("{key} needs a value: {key}=...")),
            value => value.unwrap_or_default(),
        };
        match key {
            "superblock" => self.superblock = Some(boolean(value)?),
            "format" => match unsigned(value)? {
                n @ (0 | 1) => self.format = Some(n),
                n => {
                    return Err(format!(
                        "format {n} does not exist: 1 is normal, 0 is legacy"
                    ))
                }
            },
            "data-block-size" => self.data_block_size = Some(block_size(value)?),
            "hash-block-size" => self.hash_block_size = Some(block_size(value)?),
            "data-blocks" => self.data_blocks = Some(unsigned(value)?),
            "hash-offset" => self.hash_offset = Some(sector_aligned_bytes(value)?),
            "salt" => self.salt = Some(salt(value)?),
            "uuid" => self.uuid = Some(Guid::parse(value).map_err(|e| e.to_string())?),
            "hash" => self.hash = Some(hash_algorithm(value)?),
            "fec-device" => self.fec_device = Some(DeviceSpec::parse(value)?),
            "fec-offset" => self.fec_offset = Some(sector_aligned_bytes(value)?),
            "fec-roots" => match unsigned(value)? {
                n @ 2..=24 => self.fec_roots = Some(n),
                n => return Err(format!("{n} is not from 2 to 24")),
            },
            "root-hash-signature" => self.root_hash_signature = Some(signature(value)?),
            "error-as-corruption" => self.error_as_corruption = true,
            "ignore-zero-blocks" => self.ignore_zero_blocks = true,
            "check-at-most-once" => self.check_at_most_once = true,
            _ => match corruption {
                Some(mode) => match self.corruption {
                    Some(earlier) if earlier != mode => {
                        return Err(format!("{earlier} was given already: choose one"));
                    }
                    _ => self.corruption = Some(mode),
                },
                None => {
                    let hint = if let Some(mode) = error_mode(key) {
                        format!(
                            "; the kernel's {} is veritytab's \
                             {mode}-on-corruption,error-as-corruption",
                            key.replace('-', "_")
                        )
                    } else if key.contains('_') {
                        format!("; did you mean {}?", key.replace('_', "-"))
                    } else {
                        String::new()
                    };
                    return Err(format!(
                        "unknown key '{key}'{hint}; known keys: {}",
                        known_keys()
                    ));
                }
            },
        }
        Ok(())
    }
}

/// `restart` or `panic` when `key` names the kernel's `restart_on_error` or
/// `panic_on_error`, in either spelling.
fn error_mode(key: &str) -> Option<&'static str> {
    match key.replace('_', "-").as_str() {
        "restart-on-error" => Some("restart"),
        "panic-on-error" => Some("panic"),
        _ => None,
    }
}

/// Escapes what `split_items` would take apart.
fn escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace(',', "\\,")
}

impl fmt::Display for VerityOptions {
    /// The canonical veritytab option list, keys in a fixed order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::new();
        let mut push = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                items.push(format!("{key}={value}"));
            }
        };
        push("superblock", self.superblock.map(|b| b.to_string()));
        push("format", self.format.map(|n| n.to_string()));
        push(
            "data-block-size",
            self.data_block_size.map(|n| n.to_string()),
        );
        push(
            "hash-block-size",
            self.hash_block_size.map(|n| n.to_string()),
        );
        push("data-blocks", self.data_blocks.map(|n| n.to_string()));
        push("hash-offset", self.hash_offset.map(|n| n.to_string()));
        let salt = self.salt.as_ref().map(|s| {
            if s.is_empty() {
                "-".into()
            } else {
                encode_hex(s)
            }
        });
        push("salt", salt);
        push("uuid", self.uuid.map(|g| g.to_string()));
        push("hash", self.hash.clone());
        push(
            "fec-device",
            self.fec_device.as_ref().map(|d| escaped(&d.to_string())),
        );
        push("fec-offset", self.fec_offset.map(|n| n.to_string()));
        push("fec-roots", self.fec_roots.map(|n| n.to_string()));
        push(
            "root-hash-signature",
            self.root_hash_signature.as_deref().map(escaped),
        );
        if let Some(mode) = self.corruption {
            items.push(mode.to_string());
        }
        if self.error_as_corruption {
            items.push("error-as-corruption".into());
        }
        if self.ignore_zero_blocks {
            items.push("ignore-zero-blocks".into());
        }
        if self.check_at_most_once {
            items.push("check-at-most-once".into());
        }
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
#[path = "verity_options_tests.rs"]
mod tests;
