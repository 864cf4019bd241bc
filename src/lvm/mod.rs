//! LVM2, read straight from block devices without the lvm2 tools.
//!
//! A physical volume carries a label in one of its first four sectors (`label`), which
//! points at metadata areas; each holds the volume group's metadata as text in a ring
//! buffer (`mda`). The text is libdm's config syntax (`text`, parsed by `text_parser`),
//! which `metadata` turns into a checked model of the volume group: physical volumes,
//! logical volumes, segments (`logical_volume` reads the latter two, `fields` reads typed
//! values, and `metadata_error` says what failed).
//! `crc` is lvm2's checksum; `le` reads the little-endian fields of the on-disk structures.

pub mod crc;
mod fields;
pub mod label;
mod le;
mod logical_volume;
pub mod mda;
pub mod metadata;
mod metadata_error;
pub mod text;
mod text_parser;

#[cfg(test)]
mod fixtures;
