//! Why metadata text does not describe a usable volume group: one variant per rule of
//! `metadata` and `logical_volume`, each saying where in the text it failed.

use std::fmt;

use crate::id::LvmId;
use crate::lvm::metadata::MAX_STRIPES;
use crate::lvm::text::TextError;

/// Metadata text that does not describe a usable volume group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataError {
    /// Where in the text: `vg0/logical_volumes/root/segment1`; empty for the top level.
    pub path: String,
    pub problem: MetadataProblem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataProblem {
    Text(TextError),
    NoVolumeGroup,
    SeveralVolumeGroups(Vec<String>),
    Contents(String),
    Version(u64),
    Missing {
        key: &'static str,
        expected: &'static str,
    },
    WrongType {
        key: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    /// Negative, or beyond what lvm2 reads into the field.
    OutOfRange {
        key: &'static str,
        value: i64,
        max: u64,
    },
    BadId(String),
    BadName(String),
    /// An entry of physical_volumes or logical_volumes that is not a section.
    NotASection {
        key: String,
        found: &'static str,
    },
    TooMany {
        what: &'static str,
        limit: usize,
    },
    ZeroExtentSize,
    DuplicateId {
        id: LvmId,
        first: String,
    },
    /// pe_start + pe_count * extent_size does not fit in 64 bits.
    PvTooLarge,
    SegmentCount {
        recorded: u64,
        found: usize,
    },
    ZeroExtentCount,
    /// A segment starts elsewhere than where the one before it ended.
    SegmentStart {
        segment: String,
        start: u64,
        expected: u64,
    },
    /// The LV's size in sectors does not fit in 64 bits.
    LvTooLarge,
    StripeCount(u64),
    StripesLength {
        stripe_count: u64,
        entries: usize,
    },
    StripesDoNotDivide {
        extent_count: u64,
        stripe_count: u64,
    },
    ZeroStripeSize,
    /// Stripe `stripe` (from 0) is not a "name", extent pair.
    StripeEntry {
        stripe: usize,
    },
    UnknownVolume {
        stripe: usize,
        name: String,
    },
    OutsidePv {
        stripe: usize,
        pv: String,
        start: u64,
        count: u64,
        pe_count: u64,
    },
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MetadataProblem as P;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        match &self.problem {
            P::Text(e) => write!(f, "{e}"),
            P::NoVolumeGroup => write!(f, "no volume group section in the text"),
            P::SeveralVolumeGroups(names) => {
                write!(f, "several volume group sections: {}", names.join(", "))
            }
            P::Contents(c) => write!(f, "contents is \"{c}\", not \"Text Format Volume Group\""),
            P::Version(v) => write!(f, "format version {v} is not 1"),
            P::Missing { key, expected } => write!(f, "no {key} ({expected})"),
            P::WrongType {
                key,
                expected,
                found,
            } => {
                write!(f, "{key} is {found}, expected {expected}")
            }
            P::OutOfRange { key, value, max } => write!(f, "{key} = {value} is not 0 to {max}"),
            P::BadId(why) => write!(f, "{why}"),
            P::BadName(why) => write!(f, "{why}"),
            P::NotASection { key, found } => write!(f, "{key} is {found}, expected a section"),
            P::TooMany { what, limit } => write!(f, "more than {limit} {what}"),
            P::ZeroExtentSize => write!(f, "extent_size is 0"),
            P::DuplicateId { id, first } => write!(f, "ID {id} is also the ID of {first}"),
            P::PvTooLarge => write!(f, "pe_start + pe_count extents overflows 64 bits"),
            P::SegmentCount { recorded, found } => write!(
                f,
                "segment_count is {recorded} but there are {found} segment sections"
            ),
            P::ZeroExtentCount => write!(f, "extent_count is 0"),
            P::SegmentStart {
                segment,
                start,
                expected,
            } => {
                let what = if start > expected {
                    "a gap"
                } else {
                    "an overlap"
                };
                write!(
                    f,
                    "{segment} starts at extent {start}, expected {expected} ({what} in the LV)"
                )
            }
            P::LvTooLarge => write!(f, "the LV's size in sectors overflows 64 bits"),
            P::StripeCount(n) => write!(f, "stripe_count {n} is not 1 to {MAX_STRIPES}"),
            P::StripesLength {
                stripe_count,
                entries,
            } => write!(
                f,
                "stripe_count is {stripe_count} but stripes has {entries} entries \
                 (expected {} : a name and an extent per stripe)",
                stripe_count.saturating_mul(2)
            ),
            P::StripesDoNotDivide {
                extent_count,
                stripe_count,
            } => write!(
                f,
                "extent_count {extent_count} is not a multiple of stripe_count {stripe_count}"
            ),
            P::ZeroStripeSize => write!(f, "stripe_size is 0 for several stripes"),
            P::StripeEntry { stripe } => {
                write!(f, "stripe {stripe} is not a \"pvN\", extent pair")
            }
            P::UnknownVolume { stripe, name } => write!(
                f,
                "stripe {stripe} is on '{name}', which is neither in physical_volumes nor \
                 in logical_volumes"
            ),
            P::OutsidePv {
                stripe,
                pv,
                start,
                count,
                pe_count,
            } => write!(
                f,
                "stripe {stripe} uses extents {start}+{count} of {pv}, which has {pe_count}"
            ),
        }
    }
}

impl std::error::Error for MetadataError {}
