//! LVM volume group and logical volume names, as lvm2 allows them and as a command line
//! writes them.
//!
//! Grammar (lvm2 `lib/misc/lvm-string.c`, `validate_name`; `libdm` `dm_split_lvm_name`):
//!   name    = 1*127 of [a-zA-Z0-9+_.-]; not starting with "-"; not "." or ".."
//!   vg-lv   = name "/" name                      ; rd.lvm.lv=, ddi:lvm:, /dev/VG/LV
//!   dm-name = escaped(vg) "-" escaped(lv)        ; /dev/mapper/, each '-' in a name doubled
//! A device-mapper name with a second single '-' is a layer (`vg-lv-real`), not an LV.

use std::fmt;

/// A logical volume named by its volume group and its own name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VgLv {
    pub vg: String,
    pub lv: String,
}

/// Longest VG or LV name lvm2 accepts.
const NAME_MAX: usize = 127;

/// Checks one VG or LV name; `kind` is "volume group" or "logical volume".
fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let bad_char = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '_' | '.' | '-')));
    let why = if name.is_empty() {
        "is empty".to_string()
    } else if name.len() > NAME_MAX {
        format!("has {} characters, lvm2 allows {NAME_MAX}", name.len())
    } else if let Some(c) = bad_char {
        format!("contains '{c}'; lvm2 allows only a-z A-Z 0-9 + _ . -")
    } else if name.starts_with('-') {
        "starts with '-'".to_string()
    } else if name == "." || name == ".." {
        "is '.' or '..'".to_string()
    } else {
        return Ok(());
    };
    Err(format!("{kind} name '{name}' {why}"))
}

impl VgLv {
    /// Checks both names as lvm2 would.
    pub fn new(vg: &str, lv: &str) -> Result<VgLv, String> {
        check_name("volume group", vg)?;
        check_name("logical volume", lv)?;
        Ok(VgLv {
            vg: vg.to_string(),
            lv: lv.to_string(),
        })
    }

    /// `VG/LV`.
    pub fn parse(text: &str) -> Result<VgLv, String> {
        let mut parts = text.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(vg), Some(lv), None) => VgLv::new(vg, lv),
            _ => Err(format!("'{text}' is not VG/LV: expected exactly one '/'")),
        }
    }

    /// A device-mapper name `VG-LV`, as under /dev/mapper.
    pub fn from_dm_name(text: &str) -> Result<VgLv, String> {
        let mut names = vec![String::new()];
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '-' && chars.next_if_eq(&'-').is_none() {
                names.push(String::new());
            } else if let Some(name) = names.last_mut() {
                name.push(c);
            }
        }
        match names.as_slice() {
            [vg, lv] => VgLv::new(vg, lv),
            [_] => Err(format!(
                "'{text}' is not an LVM device-mapper name VG-LV: no single '-' separates the \
                 volume group from the logical volume ('--' stands for a '-' in a name)"
            )),
            _ => Err(format!(
                "'{text}' has more than one single '-': it names an LVM layer device \
                 (such as VG-LV-real), not a logical volume"
            )),
        }
    }

    /// The device-mapper name, each '-' in a name doubled.
    pub fn dm_name(&self) -> String {
        format!(
            "{}-{}",
            self.vg.replace('-', "--"),
            self.lv.replace('-', "--")
        )
    }
}

impl fmt::Display for VgLv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.vg, self.lv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vglv(vg: &str, lv: &str) -> VgLv {
        VgLv {
            vg: vg.to_string(),
            lv: lv.to_string(),
        }
    }

    #[test]
    fn names_follow_lvm2_rules() {
        let longest = "a".repeat(127);
        for good in ["vg0", "a", "A+b_c.d-e", "_", "..a", "a-", &longest] {
            assert_eq!(VgLv::new(good, good), Ok(vglv(good, good)), "{good}");
        }
        let too_long = "a".repeat(128);
        for bad in [
            "", "-a", ".", "..", "a b", "a/b", "a:b", "ä", "a\"b", &too_long,
        ] {
            assert!(VgLv::new(bad, "lv").is_err(), "vg {bad:?}");
            assert!(VgLv::new("vg", bad).is_err(), "lv {bad:?}");
        }
        let err = VgLv::new("vg0", "-root").unwrap_err();
        assert_eq!(err, "logical volume name '-root' starts with '-'");
    }

    #[test]
    fn vg_slash_lv() {
        let cases = [
            ("vg0/root", Some(vglv("vg0", "root"))),
            ("my-vg/rootfs-a", Some(vglv("my-vg", "rootfs-a"))),
            ("vg0", None),
            ("vg0/", None),
            ("/root", None),
            ("vg0/root/x", None),
            ("/dev/vg0/root", None),
            ("vg0//root", None),
        ];
        for (text, expected) in cases {
            assert_eq!(VgLv::parse(text).ok(), expected, "{text}");
        }
    }

    #[test]
    fn device_mapper_names() {
        let cases = [
            ("vg0-root", Some(vglv("vg0", "root"))),
            ("my--vg-root--a", Some(vglv("my-vg", "root-a"))),
            ("vg---lv", Some(vglv("vg-", "lv"))),
            ("vg0-root-real", None),
            ("vg0-root-cow", None),
            ("vg0root", None),
            ("vg--root", None),
            ("-root", None),
            ("vg0-", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(VgLv::from_dm_name(text).ok(), expected, "{text}");
        }
    }

    #[test]
    fn dm_names_round_trip() {
        for (vg, lv) in [
            ("vg0", "root"),
            ("my-vg", "root-a"),
            ("a--b", "c-"),
            ("vg-", "lv"),
        ] {
            let v = vglv(vg, lv);
            assert_eq!(VgLv::from_dm_name(&v.dm_name()), Ok(v));
        }
        assert_eq!(vglv("my-vg", "root-a").dm_name(), "my--vg-root--a");
        assert_eq!(vglv("vg0", "root").to_string(), "vg0/root");
    }
}
