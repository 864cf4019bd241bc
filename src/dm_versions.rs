//! What a dm-verity table needs of the kernel: the version of its `verity` target
//! (DM_LIST_VERSIONS) that each option word first came with, and the Linux release that
//! brought it. A table whose words the kernel's target predates is refused before it is
//! loaded, naming the kernel needed, instead of failing with the kernel's bare EINVAL.
//!
//! The versions are those of `drivers/md/dm-verity-target.c` when each option came in,
//! the same that cryptsetup checks (`lib/libdevmapper.c`, `_dm_set_verity_compat`). For
//! `restart_on_error` and `panic_on_error` (Linux 6.12) the kernel did not raise the
//! version with them; cryptsetup takes 1.10.0, and so does verinit: a kernel that reports
//! 1.10.0 without them still refuses the table, and the boot explains that EINVAL too.

use std::fmt;

use crate::dm_table::VerityTarget;

/// A dm target's version, as DM_LIST_VERSIONS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TargetVersion(pub u32, pub u32, pub u32);

impl fmt::Display for TargetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// What one option word of a verity table needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The table's word, e.g. `restart_on_error`.
    pub word: &'static str,
    pub version: TargetVersion,
    /// The Linux release whose dm-verity first took the word, e.g. "6.12".
    pub linux: &'static str,
}

const fn need(word: &'static str, v: (u32, u32, u32), linux: &'static str) -> Requirement {
    Requirement {
        word,
        version: TargetVersion(v.0, v.1, v.2),
        linux,
    }
}

/// The option words that came after dm-verity's first release, oldest first.
pub const VERITY_OPTIONS: [Requirement; 9] = [
    need("ignore_corruption", (1, 2, 0), "4.1"),
    need("restart_on_corruption", (1, 2, 0), "4.1"),
    need("ignore_zero_blocks", (1, 3, 0), "4.5"),
    need("use_fec_from_device", (1, 3, 0), "4.5"),
    need("check_at_most_once", (1, 4, 0), "4.17"),
    need("root_hash_sig_key_desc", (1, 5, 0), "5.4"),
    need("panic_on_corruption", (1, 7, 0), "5.9"),
    need("restart_on_error", (1, 10, 0), "6.12"),
    need("panic_on_error", (1, 10, 0), "6.12"),
];

/// The words of Linux 6.12 whose support the version does not prove.
pub const UNVERSIONED: [&str; 2] = ["restart_on_error", "panic_on_error"];

impl VerityTarget {
    /// What its option words need, the newest need first (only the words that came after
    /// dm-verity's first release; none for a table without options).
    pub fn kernel_needs(&self) -> Vec<Requirement> {
        // VERITY_OPTIONS is oldest first (a test holds it to that).
        VERITY_OPTIONS
            .iter()
            .rev()
            .filter(|r| self.options.iter().any(|w| w == r.word))
            .copied()
            .collect()
    }
}

/// Why a kernel whose verity target is `have` cannot load a table with these needs (as
/// `kernel_needs` gives them, newest first), or None when it can: every word its version
/// predates, and the release that has them all.
pub fn unsupported(needs: &[Requirement], have: TargetVersion) -> Option<String> {
    let missing: Vec<&Requirement> = needs.iter().filter(|r| r.version > have).collect();
    let newest = missing.first()?; // needs come newest first
    let words: Vec<&str> = missing.iter().map(|r| r.word).collect();
    Some(format!(
        "the kernel's dm-verity target is version {have}, older than {} which {} needs \
         (Linux {} or later): boot a newer kernel, or leave out the option that asks for it{}",
        newest.version,
        words.join(", "),
        newest.linux,
        hint(&words)
    ))
}

/// Where the words come from on verinit's command line.
fn hint(words: &[&str]) -> String {
    let mut from = Vec::new();
    if words.iter().any(|w| UNVERSIONED.contains(w)) {
        from.push("error-as-corruption in systemd.verity_root_options=");
    }
    if words.contains(&"panic_on_corruption") {
        from.push("panic-on-corruption in systemd.verity_root_options=");
    }
    if words.contains(&"check_at_most_once") {
        from.push("check-at-most-once in systemd.verity_root_options=");
    }
    if words.contains(&"root_hash_sig_key_desc") {
        from.push("the root hash signature (a roothash= without it)");
    }
    if words.contains(&"use_fec_from_device") {
        from.push("FEC (fec-device= or the image's FEC footer)");
    }
    if from.is_empty() {
        String::new()
    } else {
        format!(" ({})", from.join("; "))
    }
}

/// For a table the kernel refused with EINVAL although its version looked new enough:
/// the words whose support its version does not prove.
pub fn einval_hint(target: &VerityTarget) -> Option<String> {
    let words: Vec<&str> = UNVERSIONED
        .iter()
        .copied()
        .filter(|u| target.options.iter().any(|w| w == u))
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(format!(
        "{} came with Linux 6.12, and a kernel before it refuses the table with EINVAL \
         whatever its dm-verity version says: boot Linux 6.12 or later, or leave out \
         error-as-corruption in systemd.verity_root_options=",
        words.join(" and ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dm_table::{TableLine, Target};

    fn verity(words: &str) -> VerityTarget {
        let line = format!(
            "0 8 verity 1 a b 4096 4096 1 1 sha256 ab - {} {words}",
            words.split_whitespace().count()
        );
        match line.parse::<TableLine>().expect("a table line").target {
            Target::Verity(v) => v,
            _ => unreachable!(),
        }
    }

    #[test]
    fn newest_need_first() {
        let v = verity("restart_on_corruption restart_on_error ignore_zero_blocks");
        let needs = v.kernel_needs();
        let words: Vec<&str> = needs.iter().map(|r| r.word).collect();
        assert_eq!(
            words,
            [
                "restart_on_error",
                "ignore_zero_blocks",
                "restart_on_corruption"
            ]
        );
        assert_eq!(needs[0].version, TargetVersion(1, 10, 0));
        assert!(verity("").kernel_needs().is_empty());
    }

    #[test]
    fn refused_by_older_kernels_only() {
        let needs = verity("panic_on_corruption panic_on_error").kernel_needs();
        // Linux 6.1's dm-verity, and a newer one.
        for old in [TargetVersion(1, 8, 1), TargetVersion(1, 9, 0)] {
            let why = unsupported(&needs, old).expect("refused");
            assert!(
                why.contains(&format!("version {old}, older than 1.10.0"))
                    && why.contains("panic_on_error needs (Linux 6.12 or later)")
                    && why.contains("error-as-corruption"),
                "{why}"
            );
        }
        for new in [
            TargetVersion(1, 10, 0),
            TargetVersion(1, 11, 0),
            TargetVersion(2, 0, 0),
        ] {
            assert_eq!(unsupported(&needs, new), None, "{new}");
        }
        let why = unsupported(&needs, TargetVersion(1, 6, 0)).expect("refused");
        assert!(
            why.contains("panic_on_error, panic_on_corruption needs"),
            "{why}"
        );
    }

    #[test]
    fn einval_explained_only_for_unversioned_words() {
        assert!(einval_hint(&verity("restart_on_corruption")).is_none());
        let hint = einval_hint(&verity("restart_on_corruption restart_on_error")).expect("a hint");
        assert!(
            hint.starts_with("restart_on_error came with Linux 6.12"),
            "{hint}"
        );
    }

    #[test]
    fn versions_order_and_print() {
        assert!(TargetVersion(1, 10, 0) > TargetVersion(1, 9, 9));
        assert_eq!(TargetVersion(1, 10, 0).to_string(), "1.10.0");
        let mut sorted = VERITY_OPTIONS;
        sorted.sort_by_key(|r| r.version);
        assert_eq!(sorted, VERITY_OPTIONS, "the table is oldest first");
    }
}
