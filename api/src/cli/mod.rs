//! The bodies of `voucher-ledger` subcommands that live outside `main.rs` (which keeps their clap variants
//! and one dispatch arm each).

pub mod backup;
pub mod transparency;
