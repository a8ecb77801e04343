//! JSON command parsing on arbitrary bytes: every request body type of the HTTP API through the one parser
//! the handlers use (`api::http::parse_body`). Ok or a 400 problem, never a panic.
#![no_main]

use api::http::{commands as c, parse_body, regulation as r};
use libfuzzer_sys::fuzz_target;

macro_rules! parse_all {
    ($body:expr, $($ty:ty),* $(,)?) => {
        $( if let Err(error) = parse_body::<$ty>($body) { assert_eq!(error.status.as_u16(), 400); } )*
    };
}

fuzz_target!(|data: &[u8]| {
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
