#![no_main]
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = mishen::ingest::extract("f.xlsx", None, data, &common::limits()) {
        // Segments are ordered, in bounds and on character boundaries.
        let mut at = 0;
        for s in &e.segments {
            assert!(at <= s.start && s.start <= s.end && s.end <= e.text.len());
            assert!(e.text.is_char_boundary(s.start) && e.text.is_char_boundary(s.end));
            at = s.end;
        }
    }
});
