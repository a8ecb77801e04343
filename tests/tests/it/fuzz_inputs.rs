//! The fuzz targets' inputs on the stable toolchain (proptest): what `fuzz/` feeds libFuzzer with cargo-fuzz,
//! here as random and mutated inputs in the ordinary test suite.
//!
//! - The record decoder and the chain verifier on arbitrary bytes, and on real records of a demo log with
//!   bytes flipped, cut or appended: Ok or Err, never a panic; a changed record never passes the chain.
//! - Every JSON request body type through `api::http::parse_body` on arbitrary bytes, on JSON-ish text and
//!   on mutations of valid bodies: Ok or a 400, never a panic; and each body that parses is built into its
//!   command and decided against the demo ledger's state by every kind of actor (`fuzz_commands`): `decide`
//!   never panics and what it accepts keeps the ledger balanced.
//! - The file log's scanner: in `store`'s tests (`store/tests/it/scanner.rs`), with every byte of a valid log
//!   damaged as well as arbitrary bytes.

use std::sync::{Arc, OnceLock};

use api::http::{bodies as c, bodies as r, parse_body};
use futures::StreamExt;
use proptest::prelude::*;
use store::{EventLog, StoredRecord};

use crate::fuzz_commands;

macro_rules! parse_all {
    ($body:expr, $($ty:ty),* $(,)?) => {
        $(
            if let Err(error) = parse_body::<$ty>($body) {
                prop_assert_eq!(error.status.as_u16(), 400, "{}: {}", stringify!($ty), error.detail);
            }
        )*
    };
}

fn parse_every_request(data: &[u8]) -> Result<(), TestCaseError> {
    let decided = fuzz_commands::decide_body(data, demo_state());
    prop_assert!(decided.is_ok(), "{:?}", decided);
    let body = bytes::Bytes::copy_from_slice(data);
    parse_all!(
        &body,
        c::AppropriationRequest,
        c::BatchRequest,
        c::EmptyRequest,
        c::RegistrationRequest,
        c::VerificationRequest,
        c::SuspensionRequest,
        c::ClockRequest,
        r::ProviderApplicationRequest,
        r::ProviderDecisionRequest,
        r::ReasonRequest,
        r::ObjectionRequest,
        r::RulingRequest,
        r::ContractRequest,
        r::RatingRequest,
        r::RedemptionRequest,
        r::ReviewRequest,
        r::AnnouncementRequest,
        r::DisbursementRequest,
        r::DenialRequest,
        r::SampleRequest,
        r::FindingRequest,
        r::ClawbackRequest,
        r::RecoveryRequest,
        r::ReferralRequest,
    );
    Ok(())
}

/// Valid bodies to mutate.
const SEEDS: &[&str] = &[
    r#"{"amount":"1000.00"}"#,
    r#"{"decision":"verified"}"#,
    r#"{"jurisdiction":"guiyang","fiscal_year":2025,"name":"b","total":"1000.00","face_value":"100.00","eligible_kinds":["enterprise"],"eligible_industries":["advanced_equipment"],"eligible_categories":["technology_innovation"],"claim_opens":"2025-03-01","claim_closes":"2025-06-30","valid_until":"2025-12-31"}"#,
    r#"{"credit_code":"91520100000000001X","name":"e","kind":"enterprise","jurisdiction":"guiyang","industry":"advanced_equipment","independent_legal_person":true,"tax_compliant":true}"#,
    r#"{"now":"2025-03-03T09:00:00+08:00"}"#,
    r#"{"decision":"full","amount":"12.34","reason":"x"}"#,
    r#"{"jurisdiction":"guiyang","fiscal_year":2025,"name":"b","total":"1000.00","face_value":"100.00","eligible_kinds":["enterprise"],"eligible_industries":["advanced_equipment"],"eligible_categories":["technology_innovation"],"claim_opens":"2025-03-01","claim_closes":"2025-06-30","valid_until":"2025-12-31","redemption_days":4294967295}"#,
    r#"{"jurisdiction":"guiyang","year":2024,"size":4294967295,"seed":"s"}"#,
    r#"{"reason":"r"}"#,
    r#"{"payment_reference":"p"}"#,
    r#"{}"#,
];

/// The state the demo log folds to.
fn demo_state() -> &'static domain::State {
    static STATE: OnceLock<domain::State> = OnceLock::new();
    STATE.get_or_init(|| fuzz_commands::fold(demo_records()))
}

/// The records of a small demo log, built once.
fn demo_records() -> &'static Vec<StoredRecord> {
    static RECORDS: OnceLock<Vec<StoredRecord>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let (log, _) = store::file::FileLog::open(dir.path()).expect("log");
            let log = Arc::new(log);
            let options = engine::demo::DemoOptions { seed: 3, applicants: 8, providers: 3 };
            engine::demo::run_on(log.clone(), options).await.expect("demo");
            log.read_from(1).map(|record| record.expect("record")).collect::<Vec<_>>().await
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_record_decoder_never_panics_on_arbitrary_bytes(hash in any::<[u8; 32]>(), flags in any::<bool>(), bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let record = StoredRecord { position: 1, ends_command: flags, hash, bytes };
        let _ = ledger_proto::decode_record(&record);
        let _ = ledger_proto::ChainVerifier::new().check(&record);
    }

    #[test]
    fn a_mutated_real_record_never_panics_and_never_passes_the_chain(index in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), flip in 1u8..=255, cut in any::<bool>(), extra in proptest::collection::vec(any::<u8>(), 0..16)) {
        let records = demo_records();
        let position = index.index(records.len());
        let mut record = records[position].clone();
        if cut && !record.bytes.is_empty() {
            let keep = at.index(record.bytes.len());
            record.bytes.truncate(keep);
        } else if !extra.is_empty() {
            record.bytes.extend_from_slice(&extra);
        } else {
            let at = at.index(record.bytes.len());
            record.bytes[at] ^= flip;
        }
        let _ = ledger_proto::decode_record(&record);
        let mut verifier = ledger_proto::ChainVerifier::new();
        let mut broken = false;
        for earlier in &records[..position] {
            prop_assert!(verifier.check(earlier).is_ok());
        }
        if verifier.check(&record).is_err() {
            broken = true;
        }
        prop_assert!(broken || record == records[position], "a changed record passed the chain at {}", position + 1);
    }

    #[test]
    fn json_parsing_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_every_request(&data)?;
    }

    #[test]
    fn json_parsing_never_panics_on_json_like_text(text in r#"[\[\]{}":,0-9a-z.\-+eE \\u]{0,200}"#) {
        parse_every_request(text.as_bytes())?;
    }

    #[test]
    fn json_parsing_never_panics_on_mutated_valid_bodies(seed in 0..SEEDS.len(), at in any::<prop::sample::Index>(), byte in any::<u8>(), insert in any::<bool>()) {
        let mut data = SEEDS[seed].as_bytes().to_vec();
        let at = at.index(data.len());
        if insert { data.insert(at, byte); } else { data[at] = byte; }
        parse_every_request(&data)?;
    }
}

#[test]
fn the_seed_bodies_reach_decide_and_a_day_count_out_of_bounds_is_refused() {
    let state = demo_state();
    let mut refused_attack = false;
    let mut built = 0;
    for seed in SEEDS {
        fuzz_commands::decide_body(seed.as_bytes(), state).expect("decide keeps the ledger balanced");
        for command in fuzz_commands::commands_from_body(seed.as_bytes(), state) {
            built += 1;
            if let domain::Command::PublishBatch { redemption_days: Some(u32::MAX), .. } = command {
                let bureau = domain::Actor {
                    subject: "bureau".into(),
                    role: domain::Role::Bureau,
                    jurisdiction: Some(domain::Jurisdiction::Guiyang),
                    credit_code: None,
                };
                let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
                let context = domain::Context { actor: bureau, business_date: date, log_position: 1 };
                let outcome = domain::decide(state, &context, &command).map_err(|rejection| rejection.code());
                assert_eq!(outcome, Err("out_of_bounds"));
                refused_attack = true;
            }
        }
    }
    assert!(refused_attack, "the redemption_days seed builds a batch publication");
    assert!(built >= SEEDS.len(), "only {built} commands built from {} seeds", SEEDS.len());
}
