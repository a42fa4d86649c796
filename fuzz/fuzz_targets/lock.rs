//! Fuzz target `lock`: see [`plat_fuzz::lock`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    plat_fuzz::lock(data);
});
