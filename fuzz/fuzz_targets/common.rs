// Shared by the fuzz targets: small limits keep each run fast.
#[allow(dead_code)]
pub fn limits() -> mishen::ingest::Limits {
    mishen::ingest::Limits {
        max_file_bytes: 4 << 20,
        max_entry_bytes: 4 << 20,
        max_total_bytes: 16 << 20,
        max_entries: 1000,
        max_depth: 4,
        max_ratio: 100,
        max_text_bytes: 16 << 20,
        max_decoded_bytes: 16 << 20,
    }
}
