#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| verinit::fuzz_targets::pkcs7(data));
