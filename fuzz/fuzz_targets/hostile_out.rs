//! Fuzz target `hostile_out`: see [`plat_fuzz::hostile_out`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    plat_fuzz::hostile_out(data);
});
