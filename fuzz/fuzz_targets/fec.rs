#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| verinit_fuzz::fec(data));
