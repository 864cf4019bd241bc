//! dm-verity forward error correction in user space: the Reed-Solomon code (`rs`, over
//! `gf`), where the parity lies and what each codeword holds (`layout`), the Android
//! `fec_header` footer that says where an image's parity is (`footer`), and the decoding of
//! one interleaved round (`decode`).

pub mod check;
pub mod decode;
pub mod footer;
mod gf;
pub mod layout;
pub mod rs;

pub use footer::{read_footer, FecFooter, FooterFound};
pub use layout::{footer_layout, FecError, FecLayout};
