//! The voucher-ledger service.
