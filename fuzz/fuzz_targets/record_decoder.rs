//! The record decoder on arbitrary bytes: the first 32 bytes are the stored hash, one byte the flags, the
//! rest the record. Decoding and chain checking answer Ok or Err, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 33 {
        return;
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&data[..32]);
    let record = store::StoredRecord {
        position: 1,
        ends_command: data[32] & 1 == 1,
        hash,
        bytes: data[33..].to_vec(),
    };
    let _ = ledger_proto::decode_record(&record);
    let mut verifier = ledger_proto::ChainVerifier::new();
    let _ = verifier.check(&record);
});
