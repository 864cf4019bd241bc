//! Device-mapper table lines in dmsetup syntax, printed and parsed back.
//!
//! Grammar (one line per target):
//!   line    = start " " length " " target
//!   target  = "linear" " " dev " " offset
//!           | "striped" " " n " " chunk (" " dev " " offset){n}
//!           | "verity" " " version " " dev " " dev " " dbs " " hbs " " blocks " "
//!             hash_start " " alg " " root_hex " " (salt_hex | "-") [" " n (" " word){n}]
//!   FEC     = "use_fec_from_device" " " dev " fec_start " n " fec_blocks " n " fec_roots " n
//!             (among the verity words, in cryptsetup's order; all four pairs or none)
//!   dev     = major ":" minor        a device that exists (a disk, partition, loop device)
//!           | "/" path               an image file (dry run only)
//!           | name                   a dm device that the plan itself creates
//! All positions and lengths are 512-byte sectors.

use std::fmt;
use std::str::FromStr;

use crate::units::Sectors;

/// A block device number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevNum {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for DevNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

impl FromStr for DevNum {
    type Err = String;
    fn from_str(s: &str) -> Result<DevNum, String> {
        let (major, minor) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not major:minor"))?;
        Ok(DevNum {
            major: major.parse().map_err(|_| format!("bad major in '{s}'"))?,
            minor: minor.parse().map_err(|_| format!("bad minor in '{s}'"))?,
        })
    }
}

/// The device a target points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DevRef {
    /// An existing block device.
    Num(DevNum),
    /// An image file, in a dry run.
    Path(String),
    /// A dm device created by an earlier step of the plan.
    Name(String),
}

impl fmt::Display for DevRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevRef::Num(n) => n.fmt(f),
            DevRef::Path(p) | DevRef::Name(p) => f.write_str(p),
        }
    }
}

impl FromStr for DevRef {
    type Err = String;
    fn from_str(s: &str) -> Result<DevRef, String> {
        if s.is_empty() {
            return Err("empty device".into());
        }
        if s.starts_with('/') {
            return Ok(DevRef::Path(s.to_string()));
        }
        if s.contains(':') {
            return s.parse().map(DevRef::Num);
        }
        Ok(DevRef::Name(s.to_string()))
    }
}

/// The parameters of a dm-verity target (kernel `verity.rst`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerityTarget {
    pub version: u32,
    pub data_dev: DevRef,
    pub hash_dev: DevRef,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub data_blocks: u64,
    pub hash_start_block: u64,
    pub algorithm: String,
    pub root_hash: String,
    /// Empty salt prints as `-`.
    pub salt: String,
    /// Optional words, e.g. `restart_on_corruption`.
    pub options: Vec<String>,
}

/// The FEC arguments of a verity target: the parity device, its first block there, the
/// blocks it covers and the parity bytes per codeword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FecArgs {
    pub dev: DevRef,
    pub start: u64,
    pub blocks: u64,
    pub roots: u32,
}

const FEC_KEYS: [&str; 4] = [
    "use_fec_from_device",
    "fec_start",
    "fec_blocks",
    "fec_roots",
];

impl FecArgs {
    /// The eight option words, in the order cryptsetup writes them.
    pub fn words(&self) -> Vec<String> {
        vec![
            FEC_KEYS[0].into(),
            self.dev.to_string(),
            FEC_KEYS[1].into(),
            self.start.to_string(),
            FEC_KEYS[2].into(),
            self.blocks.to_string(),
            FEC_KEYS[3].into(),
            self.roots.to_string(),
        ]
    }
}

impl VerityTarget {
    /// The FEC arguments among the option words, if any; an error when they are partial
    /// or not numbers.
    pub fn fec(&self) -> Result<Option<FecArgs>, String> {
        let value = |key: &str| -> Option<&str> {
            let at = self.options.iter().position(|w| w == key)?;
            self.options.get(at + 1).map(String::as_str)
        };
        let found: Vec<Option<&str>> = FEC_KEYS.iter().map(|k| value(k)).collect();
        if found.iter().all(Option::is_none) {
            return Ok(None);
        }
        let get = |i: usize| {
            found[i].ok_or_else(|| {
                format!(
                    "the FEC arguments need all of {}; {} is missing",
                    FEC_KEYS.join(", "),
                    FEC_KEYS[i]
                )
            })
        };
        let num = |i: usize| -> Result<u64, String> {
            let w = get(i)?;
            w.parse()
                .map_err(|_| format!("{} '{w}' is not a number", FEC_KEYS[i]))
        };
        Ok(Some(FecArgs {
            dev: get(0)?.parse()?,
            start: num(1)?,
            blocks: num(2)?,
            roots: u32::try_from(num(3)?).map_err(|_| "fec_roots is too large".to_string())?,
        }))
    }

    /// Replaces the FEC device word (the boot puts device numbers for names).
    pub fn map_fec_device(
        &mut self,
        map: impl Fn(&DevRef) -> Result<DevRef, String>,
    ) -> Result<(), String> {
        if let Some(at) = self.options.iter().position(|w| w == FEC_KEYS[0]) {
            if let Some(word) = self.options.get_mut(at + 1) {
                *word = map(&word.parse()?)?.to_string();
            }
        }
        Ok(())
    }
}

/// One target: what the sectors `start .. start + len` of a dm device map to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Linear {
        dev: DevRef,
        offset: Sectors,
    },
    Striped {
        chunk: Sectors,
        stripes: Vec<(DevRef, Sectors)>,
    },
    Verity(VerityTarget),
}

/// One line of a dm table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableLine {
    pub start: Sectors,
    pub len: Sectors,
    pub target: Target,
}

impl TableLine {
    /// The target type name, as the kernel knows it.
    pub fn target_type(&self) -> &'static str {
        match self.target {
            Target::Linear { .. } => "linear",
            Target::Striped { .. } => "striped",
            Target::Verity(_) => "verity",
        }
    }

    /// The parameter string the kernel takes for this target (all but start, length, type).
    pub fn params(&self) -> String {
        let line = self.to_string();
        line.splitn(4, ' ').nth(3).unwrap_or("").to_string()
    }

    /// Every device this line points at.
    pub fn devices(&self) -> Vec<DevRef> {
        match &self.target {
            Target::Linear { dev, .. } => vec![dev.clone()],
            Target::Striped { stripes, .. } => stripes.iter().map(|(d, _)| d.clone()).collect(),
            Target::Verity(v) => {
                let mut devs = vec![v.data_dev.clone(), v.hash_dev.clone()];
                if let Ok(Some(fec)) = v.fec() {
                    devs.push(fec.dev);
                }
                devs
            }
        }
    }
}

impl fmt::Display for TableLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.start, self.len)?;
        match &self.target {
            Target::Linear { dev, offset } => write!(f, "linear {dev} {offset}"),
            Target::Striped { chunk, stripes } => {
                write!(f, "striped {} {}", stripes.len(), chunk)?;
                for (dev, offset) in stripes {
                    write!(f, " {dev} {offset}")?;
                }
                Ok(())
            }
            Target::Verity(v) => {
                let salt = if v.salt.is_empty() { "-" } else { &v.salt };
                write!(
                    f,
                    "verity {} {} {} {} {} {} {} {} {} {}",
                    v.version,
                    v.data_dev,
                    v.hash_dev,
                    v.data_block_size,
                    v.hash_block_size,
                    v.data_blocks,
                    v.hash_start_block,
                    v.algorithm,
                    v.root_hash,
                    salt
                )?;
                if !v.options.is_empty() {
                    write!(f, " {}", v.options.len())?;
                    for word in &v.options {
                        write!(f, " {word}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

fn number<T: FromStr>(words: &mut std::str::SplitWhitespace<'_>, what: &str) -> Result<T, String> {
    let word = words.next().ok_or_else(|| format!("missing {what}"))?;
    word.parse()
        .map_err(|_| format!("{what} '{word}' is not a number"))
}

fn word<'a>(words: &mut std::str::SplitWhitespace<'a>, what: &str) -> Result<&'a str, String> {
    words.next().ok_or_else(|| format!("missing {what}"))
}

impl FromStr for TableLine {
    type Err = String;
    fn from_str(line: &str) -> Result<TableLine, String> {
        let mut w = line.split_whitespace();
        let start = Sectors(number(&mut w, "start")?);
        let len = Sectors(number(&mut w, "length")?);
        let target = match word(&mut w, "target type")? {
            "linear" => Target::Linear {
                dev: word(&mut w, "device")?.parse()?,
                offset: Sectors(number(&mut w, "offset")?),
            },
            "striped" => {
                let n: usize = number(&mut w, "stripe count")?;
                if n == 0 || n > 1024 {
                    return Err(format!("bad stripe count {n}"));
                }
                let chunk = Sectors(number(&mut w, "chunk size")?);
                let mut stripes = Vec::with_capacity(n);
                for _ in 0..n {
                    let dev = word(&mut w, "stripe device")?.parse()?;
                    stripes.push((dev, Sectors(number(&mut w, "stripe offset")?)));
                }
                Target::Striped { chunk, stripes }
            }
            "verity" => {
                let mut v = VerityTarget {
                    version: number(&mut w, "version")?,
                    data_dev: word(&mut w, "data device")?.parse()?,
                    hash_dev: word(&mut w, "hash device")?.parse()?,
                    data_block_size: number(&mut w, "data block size")?,
                    hash_block_size: number(&mut w, "hash block size")?,
                    data_blocks: number(&mut w, "data blocks")?,
                    hash_start_block: number(&mut w, "hash start block")?,
                    algorithm: word(&mut w, "algorithm")?.to_string(),
                    root_hash: word(&mut w, "root hash")?.to_string(),
                    salt: word(&mut w, "salt")?.to_string(),
                    options: Vec::new(),
                };
                if v.salt == "-" {
                    v.salt.clear();
                }
                if let Some(count) = w.next() {
                    let n: usize = count
                        .parse()
                        .map_err(|_| format!("option count '{count}' is not a number"))?;
                    v.options = w.by_ref().map(str::to_string).collect();
                    if v.options.len() != n {
                        return Err(format!(
                            "{n} option words announced, {} given",
                            v.options.len()
                        ));
                    }
                    v.fec()?;
                }
                Target::Verity(v)
            }
            other => return Err(format!("unknown target type '{other}'")),
        };
        if let Some(extra) = w.next() {
            return Err(format!("unexpected '{extra}' at the end"));
        }
        Ok(TableLine { start, len, target })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        for line in [
            "0 16384 linear 7:0 2048",
            "16384 16384 linear 7:0 51200",
            "0 8192 linear /tmp/disk0.img 4096",
            "0 24576 striped 3 128 7:0 2048 7:1 2048 7:2 2048",
            "0 16 verity 1 vg0-root_a1 vg0-root_a2 4096 4096 2 1 sha256 \
             abcd 0011 1 restart_on_corruption",
            "0 16 verity 1 253:0 253:0 4096 4096 2 3 sha512 abcd -",
            "0 2400 verity 1 253:0 253:1 4096 4096 300 1 sha256 abcd 00112233 9 \
             restart_on_corruption use_fec_from_device 253:1 fec_start 5 fec_blocks 304 \
             fec_roots 2",
        ] {
            let parsed: TableLine = line.parse().unwrap();
            assert_eq!(parsed.to_string(), line);
        }
    }

    #[test]
    fn bad_lines_are_refused() {
        for line in [
            "",
            "0",
            "0 8 linear",
            "0 8 linear 7:0",
            "0 8 linear 7:x 0",
            "0 8 linear 7:0 0 extra",
            "0 8 striped 0 128",
            "0 8 striped 2 128 7:0 0",
            "0 8 mirror 7:0 0",
            "0 8 verity 1 a b 4096 4096 2 1 sha256 ab - 2 restart_on_corruption",
            "x 8 linear 7:0 0",
            "0 8 verity 1 a b 4096 4096 2 1 sha256 ab - 2 use_fec_from_device b",
            "0 8 verity 1 a b 4096 4096 2 1 sha256 ab - 8 use_fec_from_device b fec_start 5 \
             fec_blocks x fec_roots 2",
            "0 8 verity 1 a b 4096 4096 2 1 sha256 ab - 6 fec_start 5 fec_blocks 3 fec_roots 2",
        ] {
            assert!(line.parse::<TableLine>().is_err(), "{line}");
        }
    }

    #[test]
    fn fec_arguments_are_typed() {
        let line: TableLine = "0 16 verity 1 a b 4096 4096 2 1 sha256 ab - 8 \
            use_fec_from_device vg0-fec fec_start 7 fec_blocks 4 fec_roots 24"
            .parse()
            .unwrap();
        let Target::Verity(mut v) = line.target.clone() else {
            panic!("not verity")
        };
        let fec = v.fec().unwrap().unwrap();
        assert_eq!(
            fec,
            FecArgs {
                dev: DevRef::Name("vg0-fec".into()),
                start: 7,
                blocks: 4,
                roots: 24
            }
        );
        assert_eq!(fec.words().join(" "), v.options.join(" "));
        assert_eq!(line.devices().len(), 3);
        v.map_fec_device(|_| {
            Ok(DevRef::Num(DevNum {
                major: 253,
                minor: 4,
            }))
        })
        .unwrap();
        assert_eq!(v.fec().unwrap().unwrap().dev.to_string(), "253:4");
    }

    #[test]
    fn params_and_devices() {
        let line: TableLine = "0 24576 striped 2 128 7:0 2048 vg0-x 0".parse().unwrap();
        assert_eq!(line.target_type(), "striped");
        assert_eq!(line.params(), "2 128 7:0 2048 vg0-x 0");
        assert_eq!(
            line.devices(),
            vec![
                DevRef::Num(DevNum { major: 7, minor: 0 }),
                DevRef::Name("vg0-x".into())
            ]
        );
    }
}
