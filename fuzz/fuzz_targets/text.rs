#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Detection, then every declared path; decoded text must be valid and never
    // longer than the worst-case expansion.
    if let Ok(d) = mishen::ingest::text::decode(data, None) {
        assert!(d.text.len() <= data.len() * 3 + 3);
    }
    for label in ["gb18030", "big5", "utf-16le", "utf-8"] {
        let _ = mishen::ingest::text::decode(data, Some(label));
    }
});
