//! The Discoverable Partitions Specification (uapi-group
//! `specs/discoverable_partitions_specification.md`): which GPT partition type GUIDs mean
//! root, root-verity and root-verity-sig for each architecture, the Linux LVM PV type, and
//! the partition attribute bits verinit honours.

use std::fmt;

use crate::id::Guid;

/// Builds a GUID from its text at compile time; only used in `const` items below, so a
/// typo is a build error, never a run-time panic.
const fn guid(text: &str) -> Guid {
    const fn hex(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("GUID constants are lowercase hex"),
        }
    }
    let b = text.as_bytes();
    assert!(b.len() == 36, "GUID constants have 36 characters");
    let mut out = [0u8; 16];
    let (mut i, mut n) = (0, 0);
    while i < 36 {
        if b[i] == b'-' {
            i += 1;
            continue;
        }
        out[n] = hex(b[i]) << 4 | hex(b[i + 1]);
        n += 1;
        i += 2;
    }
    Guid(out)
}

pub const ROOT_X86_64: Guid = guid("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
pub const ROOT_VERITY_X86_64: Guid = guid("2c7357ed-ebd2-46d9-aec1-23d437ec2bf5");
pub const ROOT_VERITY_SIG_X86_64: Guid = guid("41092b05-9fc8-4523-994f-2def0408b176");
pub const ROOT_ARM64: Guid = guid("b921b045-1df0-41c3-af44-4c6f280d3fae");
pub const ROOT_VERITY_ARM64: Guid = guid("df3300ce-d69f-4c92-978c-9bfb0f38d820");
pub const ROOT_VERITY_SIG_ARM64: Guid = guid("6db69de6-29f4-4758-a7a5-962190f00ce3");
/// A Linux LVM physical volume.
pub const LINUX_LVM: Guid = guid("e6d6d379-f507-44c2-a23c-238f2a3df928");

/// Attribute bit 63: do not mount or use this partition automatically.
pub const ATTR_NO_AUTO: u64 = 1 << 63;
/// Attribute bit 60: mount read-only.
pub const ATTR_READ_ONLY: u64 = 1 << 60;

/// Whether a partition's attributes say "not automatically".
pub fn is_no_auto(attributes: u64) -> bool {
    attributes & ATTR_NO_AUTO != 0
}

/// Whether a partition's attributes say "read-only".
pub fn is_read_only(attributes: u64) -> bool {
    attributes & ATTR_READ_ONLY != 0
}

/// The architectures verinit is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    /// The architecture this binary runs on.
    pub fn native() -> Arch {
        if cfg!(target_arch = "aarch64") {
            Arch::Arm64
        } else {
            Arch::X86_64
        }
    }

    /// The spec's name: `x86-64`, `arm64`.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86-64",
            Arch::Arm64 => "arm64",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a discoverable partition is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DpsRole {
    Root,
    RootVerity,
    RootVeritySig,
}

impl DpsRole {
    pub fn name(self) -> &'static str {
        match self {
            DpsRole::Root => "root",
            DpsRole::RootVerity => "root-verity",
            DpsRole::RootVeritySig => "root-verity-sig",
        }
    }
}

impl fmt::Display for DpsRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The type GUID of `role` on `arch`.
pub fn type_of(role: DpsRole, arch: Arch) -> Guid {
    match (arch, role) {
        (Arch::X86_64, DpsRole::Root) => ROOT_X86_64,
        (Arch::X86_64, DpsRole::RootVerity) => ROOT_VERITY_X86_64,
        (Arch::X86_64, DpsRole::RootVeritySig) => ROOT_VERITY_SIG_X86_64,
        (Arch::Arm64, DpsRole::Root) => ROOT_ARM64,
        (Arch::Arm64, DpsRole::RootVerity) => ROOT_VERITY_ARM64,
        (Arch::Arm64, DpsRole::RootVeritySig) => ROOT_VERITY_SIG_ARM64,
    }
}

/// The root partition type GUID of `arch`.
pub fn root_type(arch: Arch) -> Guid {
    type_of(DpsRole::Root, arch)
}

/// The role of a partition of type `type_guid` on `arch`; partitions for other
/// architectures have none.
pub fn role_of(type_guid: &Guid, arch: Arch) -> Option<DpsRole> {
    [DpsRole::Root, DpsRole::RootVerity, DpsRole::RootVeritySig]
        .into_iter()
        .find(|&role| type_of(role, arch) == *type_guid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_spec_text() {
        for (constant, text) in [
            (ROOT_X86_64, "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"),
            (ROOT_VERITY_X86_64, "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"),
            (
                ROOT_VERITY_SIG_X86_64,
                "41092b05-9fc8-4523-994f-2def0408b176",
            ),
            (ROOT_ARM64, "b921b045-1df0-41c3-af44-4c6f280d3fae"),
            (ROOT_VERITY_ARM64, "df3300ce-d69f-4c92-978c-9bfb0f38d820"),
            (
                ROOT_VERITY_SIG_ARM64,
                "6db69de6-29f4-4758-a7a5-962190f00ce3",
            ),
            (LINUX_LVM, "e6d6d379-f507-44c2-a23c-238f2a3df928"),
        ] {
            assert_eq!(constant, Guid::parse(text).unwrap());
            assert_eq!(constant.to_string(), text);
        }
    }

    #[test]
    fn roles_per_architecture() {
        use DpsRole::*;
        for (guid, arch, role) in [
            (ROOT_X86_64, Arch::X86_64, Some(Root)),
            (ROOT_VERITY_X86_64, Arch::X86_64, Some(RootVerity)),
            (ROOT_VERITY_SIG_X86_64, Arch::X86_64, Some(RootVeritySig)),
            (ROOT_ARM64, Arch::Arm64, Some(Root)),
            (ROOT_VERITY_ARM64, Arch::Arm64, Some(RootVerity)),
            (ROOT_VERITY_SIG_ARM64, Arch::Arm64, Some(RootVeritySig)),
            // Near misses: another architecture's types, LVM, a one-bit-off GUID, nil.
            (ROOT_ARM64, Arch::X86_64, None),
            (ROOT_VERITY_X86_64, Arch::Arm64, None),
            (LINUX_LVM, Arch::X86_64, None),
            (
                guid("4f68bce3-e8cd-4db1-96e7-fbcaf984b708"),
                Arch::X86_64,
                None,
            ),
            (Guid([0; 16]), Arch::X86_64, None),
        ] {
            assert_eq!(role_of(&guid, arch), role, "{guid} on {arch}");
        }
        assert_eq!(root_type(Arch::native()), type_of(Root, Arch::native()));
        assert_eq!(Arch::native() == Arch::Arm64, cfg!(target_arch = "aarch64"));
    }

    #[test]
    fn attribute_bits() {
        assert!(is_no_auto(1 << 63) && !is_no_auto(1 << 62));
        assert!(is_read_only(1 << 60) && !is_read_only(1 << 59));
        assert!(!is_no_auto(ATTR_READ_ONLY) && !is_read_only(ATTR_NO_AUTO));
    }
}
