//! dm-verity forward error correction in user space: the Reed-Solomon code (`rs`, over
//! `gf`), where the parity lies and what each codeword holds (`layout`, its refusals in
//! `layout_error`), the Android `fec_header` footer that says where an image's parity is
//! (`footer`), the decoding of one interleaved round (`decode`), and the walk of the tree
//! that `--verify` makes after a mismatch, repairing what FEC can (`check`).

pub mod check;
pub mod decode;
pub mod footer;
mod gf;
pub mod layout;
mod layout_error;
pub mod rs;

pub use footer::{read_footer, FecFooter, FooterFound};
pub use layout::{footer_layout, FecError, FecLayout};
