//! dm-verity in user space: the superblock `veritysetup format` writes, the parameters of
//! a verity table and their limits, the hash tree (recomputed and compared with the one on
//! disk for `verinit --dry-run --verify`), and the Discoverable Partitions signature
//! partition.

pub mod base64;
mod der;
pub mod fec;
mod level_check;
pub mod params;
mod params_error;
pub mod pkcs7;
mod salted;
pub mod sig;
pub mod superblock;
pub mod tree;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tree_tests;

pub use params::{hash_start_block, HashAlgorithm, ParamsError, TreeLayout, VerityParams};
pub use sig::{parse_signature, read_signature, RootSignature, SigError};
pub use superblock::{read_superblock, SuperblockError, VeritySuperblock};
pub use tree::{compute_root_hash, verify, VerifyError, VerifyReport};
