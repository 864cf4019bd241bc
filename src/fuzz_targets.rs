//! Entry points for the fuzzers (`fuzz/`) and for replaying the inputs they found
//! (`tests/fuzz_regressions.rs`): each takes untrusted bytes and runs one reader on them.
//! They must return, whatever the bytes: no panic, no hang, no huge allocation.
