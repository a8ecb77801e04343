//! The file log's frame scanner on an arbitrary segment file: scanning and opening read-only answer a report
//! or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("voucher-ledger-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(dir.join("segments")).is_err() {
        return;
    }
    if std::fs::write(dir.join("segments").join("00000000000000000001.seg"), data).is_err() {
        return;
    }
    let _ = store::file::scan(&dir);
    let _ = store::file::FileLog::open_read_only(&dir);
});
