//! The voucher-ledger binary.
fn main() {}
