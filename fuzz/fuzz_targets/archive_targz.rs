#![no_main]
use libfuzzer_sys::fuzz_target;
use mishen::ingest::archive::{self, Item, Kind};
mod common;

fuzz_target!(|data: &[u8]| {
    let l = common::limits();
    let mut n = 0u64;
    let _ = archive::walk::<()>(Kind::TarGz, "a", std::io::Cursor::new(data), &l, &mut |i| {
        n += 1;
        if let Item::Document { path, bytes, .. } = i {
            assert!(path.starts_with("a!/") && !path.contains("/../"));
            assert!(bytes.len() as u64 <= l.max_entry_bytes);
        }
        Ok(())
    });
    assert!(n <= l.max_entries + 2 + data.len() as u64);
});
