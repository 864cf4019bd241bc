//! Which option a word is, from its key.
//!
//! Keys match whole and exactly, after '-' is made '_' (the tokenizer does that), so near
//! misses (`rd.lvm.lvx`, `roothashx`, `rootfstype` for `root`) are other options. The systemd
//! keys may carry an `rd.` prefix, which means the same and wins over the bare key:
//!   systemd-key = ["rd."] ("systemd.verity" | "systemd.verity_root_data"
//!                         | "systemd.verity_root_hash" | "systemd.verity_root_options"
//!                         | "roothash")
//! (systemd strips `rd.` from every key it reads in the initrd, `roothash` included.)

/// An option verinit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionKey {
    Root,
    LvmLv,
    VerityData,
    VerityHash,
    VerityOptions,
    Verity,
    SystemdRootHash,
    DdiRootHash,
    RootFsType,
    RootFlags,
    ReadWrite,
    ReadOnly,
    Init,
    RootWait,
    RootDelay,
    Emergency,
    Panic,
    RequireSignatures,
    Verify,
}

/// What an option takes after its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arity {
    /// No value: `rw`.
    Flag,
    /// A value, which may not be empty.
    Value,
    /// A value, which may be empty.
    MaybeEmpty,
    /// A boolean whose bare key means true: `systemd.verity`.
    Boolean,
}

/// A word recognised as one of verinit's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recognized {
    pub key: OptionKey,
    /// Given with the `rd.` prefix, which wins over the bare key.
    pub from_rd: bool,
}

const SYSTEMD_KEYS: [(&str, OptionKey); 5] = [
    ("systemd.verity", OptionKey::Verity),
    ("systemd.verity_root_data", OptionKey::VerityData),
    ("systemd.verity_root_hash", OptionKey::VerityHash),
    ("systemd.verity_root_options", OptionKey::VerityOptions),
    ("roothash", OptionKey::SystemdRootHash),
];

const OTHER_KEYS: [(&str, OptionKey); 14] = [
    ("root", OptionKey::Root),
    ("rd.lvm.lv", OptionKey::LvmLv),
    ("rd.ddi.roothash", OptionKey::DdiRootHash),
    ("rootfstype", OptionKey::RootFsType),
    ("rootflags", OptionKey::RootFlags),
    ("rw", OptionKey::ReadWrite),
    ("ro", OptionKey::ReadOnly),
    ("init", OptionKey::Init),
    ("rootwait", OptionKey::RootWait),
    ("rootdelay", OptionKey::RootDelay),
    ("rd.emergency", OptionKey::Emergency),
    ("panic", OptionKey::Panic),
    ("dm_verity.require_signatures", OptionKey::RequireSignatures),
    ("verinit.verify", OptionKey::Verify),
];

fn lookup(table: &[(&str, OptionKey)], key: &str) -> Option<OptionKey> {
    table.iter().find(|(name, _)| *name == key).map(|&(_, k)| k)
}

/// The option a normalized key names, or `None` for an option verinit does not read.
pub(crate) fn recognize(key: &str) -> Option<Recognized> {
    if let Some(key) = lookup(&OTHER_KEYS, key).or_else(|| lookup(&SYSTEMD_KEYS, key)) {
        return Some(Recognized {
            key,
            from_rd: false,
        });
    }
    let bare = key.strip_prefix("rd.")?;
    lookup(&SYSTEMD_KEYS, bare).map(|key| Recognized { key, from_rd: true })
}

impl OptionKey {
    pub(crate) fn arity(self) -> Arity {
        match self {
            OptionKey::ReadWrite | OptionKey::ReadOnly | OptionKey::RootWait => Arity::Flag,
            OptionKey::Verity | OptionKey::RequireSignatures => Arity::Boolean,
            OptionKey::VerityOptions => Arity::MaybeEmpty,
            _ => Arity::Value,
        }
    }

    /// How the option is written, for hints.
    pub(crate) fn usage(self) -> &'static str {
        match self {
            OptionKey::Root => "root=<device>",
            OptionKey::LvmLv => "rd.lvm.lv=<VG>/<LV>",
            OptionKey::VerityData => "systemd.verity_root_data=<device>",
            OptionKey::VerityHash => "systemd.verity_root_hash=<device>",
            OptionKey::VerityOptions => "systemd.verity_root_options=<option>[,<option>...]",
            OptionKey::Verity => "systemd.verity=<yes|no>",
            OptionKey::SystemdRootHash => "roothash=<root hash in hex>",
            OptionKey::DdiRootHash => "rd.ddi.roothash=<root hash in hex>",
            OptionKey::RootFsType => "rootfstype=<filesystem type>",
            OptionKey::RootFlags => "rootflags=<mount options>",
            OptionKey::ReadWrite => "rw",
            OptionKey::ReadOnly => "ro",
            OptionKey::Init => "init=<absolute path>",
            OptionKey::RootWait => "rootwait",
            OptionKey::RootDelay => "rootdelay=<seconds>",
            OptionKey::Emergency => "rd.emergency=reboot|poweroff|halt|panic",
            OptionKey::Panic => "panic=<seconds>",
            OptionKey::RequireSignatures => "dm_verity.require_signatures=<1|0>",
            OptionKey::Verify => "verinit.verify=full|off",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::tokenize::normalize_key;

    fn find(key: &str) -> Option<(OptionKey, bool)> {
        recognize(&normalize_key(key)).map(|r| (r.key, r.from_rd))
    }

    #[test]
    fn keys_and_their_spellings() {
        use OptionKey::*;
        let cases = [
            ("root", Some((Root, false))),
            ("rd.lvm.lv", Some((LvmLv, false))),
            ("systemd.verity", Some((Verity, false))),
            ("rd.systemd.verity", Some((Verity, true))),
            ("systemd.verity_root_data", Some((VerityData, false))),
            ("systemd.verity-root-data", Some((VerityData, false))),
            ("systemd.verity-root_data", Some((VerityData, false))),
            ("rd.systemd.verity_root_data", Some((VerityData, true))),
            ("rd.systemd.verity-root-hash", Some((VerityHash, true))),
            ("systemd.verity_root_options", Some((VerityOptions, false))),
            (
                "rd.systemd.verity-root-options",
                Some((VerityOptions, true)),
            ),
            ("roothash", Some((SystemdRootHash, false))),
            ("rd.roothash", Some((SystemdRootHash, true))),
            ("rd.ddi.roothash", Some((DdiRootHash, false))),
            ("rootfstype", Some((RootFsType, false))),
            ("rootflags", Some((RootFlags, false))),
            ("rw", Some((ReadWrite, false))),
            ("ro", Some((ReadOnly, false))),
            ("init", Some((Init, false))),
            ("rootwait", Some((RootWait, false))),
            ("rootdelay", Some((RootDelay, false))),
            ("rd.emergency", Some((Emergency, false))),
            ("panic", Some((Panic, false))),
            (
                "dm_verity.require_signatures",
                Some((RequireSignatures, false)),
            ),
            (
                "dm-verity.require-signatures",
                Some((RequireSignatures, false)),
            ),
        ];
        for (key, expected) in cases {
            assert_eq!(find(key), expected, "{key}");
        }
    }

    #[test]
    fn near_misses_are_other_options() {
        for key in [
            "rd.lvm.lvx",
            "rd.lvm.l",
            "rd.lvm",
            "rd.lvm.vg",
            "rd.lvm_lv",
            "rd_lvm_lv",
            "rd_LVM_LV",
            "rd.rd.lvm.lv",
            "roothashx",
            "roothash.sig",
            "usrhash",
            "rd.ddi.roothashx",
            "ddi.roothash",
            "rd.rd.ddi.roothash",
            "rootfstypes",
            "roots",
            "ROOT",
            "Root",
            "rd.root",
            "rd.init",
            "rdinit",
            "rd.rootflags",
            "rd.ro",
            "rd.systemd.verity_root_optionsx",
            "systemd.verity_root",
            "systemd.verityx",
            "systemd.verity.root_data",
            "systemd.verity_usr_data",
            "rd.rd.systemd.verity",
            "rd.",
            "rd",
            "rd.emergencyx",
            "emergency",
            "panic_on_oops",
            "oops",
            "rootwaitx",
            "rootdelays",
            "initrd",
            "init.",
            "dm_verity.require_signature",
            "rd.dm_verity.require_signatures",
            "dm_verity",
            "",
        ] {
            assert_eq!(find(key), None, "{key:?}");
        }
    }

    #[test]
    fn every_key_has_usage_naming_it() {
        for (name, key) in SYSTEMD_KEYS.iter().chain(OTHER_KEYS.iter()) {
            assert!(
                normalize_key(key.usage()).starts_with(name),
                "{name}: {}",
                key.usage()
            );
        }
    }
}
