#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| verinit::fuzz_targets::gpt(data));
