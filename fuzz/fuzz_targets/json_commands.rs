//! JSON command parsing on arbitrary bytes: every request body type of the HTTP API through the one parser
//! the handlers use (`api::http::parse_body`). Ok or a 400 problem, never a panic. Then each body that parses
//! is built into its command and decided against a populated state (the demo workload's ledger) by every
//! kind of actor: `decide` never panics and what it accepts keeps the ledger balanced.
#![no_main]

use std::sync::{Arc, OnceLock};

#[path = "../../tests/tests/it/fuzz_commands.rs"]
mod fuzz_commands;

/// The state the demo workload's log folds to, built once.
fn demo_state() -> &'static domain::State {
    static STATE: OnceLock<domain::State> = OnceLock::new();
    STATE.get_or_init(|| {
        use futures::StreamExt;
        use store::EventLog;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let records = runtime.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let (log, _) = store::file::FileLog::open(dir.path()).expect("log");
            let log = Arc::new(log);
            let options = api::demo::DemoOptions { seed: 3, applicants: 8, providers: 3 };
            api::demo::run_on(log.clone(), options).await.expect("demo");
            log.read_from(1).map(|record| record.expect("record")).collect::<Vec<_>>().await
        });
        fuzz_commands::fold(&records)
    })
}

use api::http::{commands as c, parse_body, regulation as r};
use libfuzzer_sys::fuzz_target;

macro_rules! parse_all {
    ($body:expr, $($ty:ty),* $(,)?) => {
        $( if let Err(error) = parse_body::<$ty>($body) { assert_eq!(error.status.as_u16(), 400); } )*
    };
}

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzz_commands::decide_body(data, demo_state()) {
        panic!("{broken}");
    }
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
});
