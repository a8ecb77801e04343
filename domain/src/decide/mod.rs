//! `decide`: every rule of SPEC §2–4, one module per lifecycle. Pure: state and command in, events or a
//! rejection out.
//!
//! Where a rule goes: the module of the lifecycle its command belongs to. [`decide`] checks the bounds,
//! refuses the operator, then dispatches every command kind to one function in one exhaustive match.
//! - `policy`: policy versions and holiday calendars (SPEC §3);
//! - `funding`: budgets, batches and issuance by claim (Measures art. 6, 7, 9);
//! - `applicants`: registration, verification, suspension (art. 5);
//! - `providers`: applications, decisions, suspension (art. 8);
//! - `contracts`: submission to rating (art. 9, 10);
//! - `redemptions`: request, review, disbursement, denial (art. 11, 13);
//! - `announcements`: redemption lists and the objections to them and to provider admissions (art. 8, 11);
//! - `audits`: samples, findings, clawbacks, recoveries, referrals (art. 12, 13);
//! - `deadlines`: the scheduler's commands and [`due_commands`].
//!
//! The guards every lifecycle shares (authorization, the policy in force, lookups and the stable status
//! names) live in `guards`, which imports no lifecycle module; no lifecycle module imports another.

mod announcements;
mod applicants;
mod audits;
mod contracts;
mod deadlines;
mod funding;
mod guards;
mod policy;
mod providers;
mod redemptions;

pub use announcements::OBJECTIONS_OPEN_MAX;
pub use audits::{draw_sample, sample_population};
pub use deadlines::{due_commands, due_commands_by_scan};
pub use guards::{contract_status, provider_status, redemption_status};

use crate::{Command, Context, Event, Rejection, Role, State};

/// Decides a command against the state.
///
/// # Errors
/// A [`Rejection`] naming the rule that refused it; nothing is to be recorded then.
///
/// # Properties
/// - Deterministic: the same state, context and command give the same result.
/// - Every accepted command yields at least one event, and its postings keep every account but the fiscal
///   source non-negative.
pub fn decide(state: &State, context: &Context, command: &Command) -> Result<Vec<Event>, Rejection> {
    crate::bounds::check_bounds(command)?;
    if context.actor.role == Role::Operator {
        return Err(guards::forbidden(&context.actor, "record anything: an operator only runs the service"));
    }
    match command {
        Command::PublishPolicy { policy } => policy::sign_policy(state, context, policy),
        Command::PublishCalendarYear { calendar_year } => {
            policy::publish_calendar_year(state, context, calendar_year)
        }
        Command::AppropriateBudget { jurisdiction, fiscal_year, amount } => {
            funding::appropriate_budget(context, *jurisdiction, *fiscal_year, *amount)
        }
        Command::PublishBatch { batch_id, jurisdiction, .. } => {
            funding::publish_batch(state, context, *batch_id, *jurisdiction, command)
        }
        Command::CloseBatch { batch_id } => funding::close_batch(state, context, *batch_id),
        Command::ClaimVoucher { batch_id, voucher_id } => {
            funding::claim_voucher(state, context, *batch_id, *voucher_id)
        }
        Command::RegisterApplicant { registration } => {
            applicants::register_applicant(state, context, registration)
        }
        Command::DecideVerification { credit_code, decision, reason } => {
            applicants::decide_verification(state, context, credit_code, *decision, reason)
        }
        Command::SuspendApplicant { credit_code, reason } => {
            applicants::suspend_applicant(state, context, credit_code, reason)
        }
        Command::ApplyAsProvider { name, categories, qualifications, contact } => {
            providers::apply_as_provider(state, context, name, categories, qualifications, contact)
        }
        Command::DecideProvider { provider, approve, reason } => {
            providers::decide_provider(state, context, provider, approve, reason)
        }
        Command::SuspendProvider { provider, reason } => {
            providers::suspend_provider(state, context, provider, reason)
        }
        Command::SubmitContract { contract_id, voucher_id, provider, .. } => {
            contracts::submit_contract(state, context, contract_id, voucher_id, provider, command)
        }
        Command::SignContract { contract_id } => contracts::sign_contract(state, context, contract_id),
        Command::FileContract { contract_id } => contracts::file_contract(state, context, contract_id),
        Command::RejectContract { contract_id, reason } => {
            contracts::reject_contract(state, context, contract_id, reason)
        }
        Command::CancelContract { contract_id, reason } => {
            contracts::cancel_contract(state, context, contract_id, reason)
        }
        Command::ConfirmCompletion { contract_id } => {
            contracts::confirm_completion(state, context, contract_id)
        }
        Command::RateService { contract_id, quality, timeliness, professionalism, text } => {
            contracts::rate_service(state, context, contract_id, quality, timeliness, professionalism, text)
        }
        Command::RequestRedemption { redemption_id, contract_id, invoice, remittance_proof, results } => {
            redemptions::request_redemption(
                state,
                context,
                redemption_id,
                contract_id,
                invoice,
                remittance_proof,
                results,
            )
        }
        Command::ReviewRedemption { redemption_id, outcome } => {
            redemptions::review_redemption(state, context, redemption_id, outcome)
        }
        Command::DisburseRedemption { redemption_id, payment_reference } => {
            redemptions::disburse_redemption(state, context, redemption_id, payment_reference)
        }
        Command::DenyRedemption { redemption_id, ground, reason } => {
            redemptions::deny_redemption(state, context, redemption_id, ground, reason)
        }
        Command::AnnounceRedemptions { announcement_id, jurisdiction, redemption_ids } => {
            announcements::announce_redemptions(state, context, announcement_id, jurisdiction, redemption_ids)
        }
        Command::FileObjection { objection_id, target, text } => {
            announcements::file_objection(state, context, objection_id, target, text)
        }
        Command::RuleOnObjection { objection_id, ruling, reason } => {
            announcements::rule_on_objection(state, context, objection_id, ruling, reason)
        }
        Command::DrawSample { sample_id, jurisdiction, year, size, seed } => {
            audits::draw_audit_sample(state, context, sample_id, jurisdiction, year, size, seed)
        }
        Command::RecordFinding { sample_id, contract_id, finding, note } => {
            audits::record_finding(state, context, sample_id, contract_id, finding, note)
        }
        Command::OrderClawback { clawback_id, redemption_id, amount, reason } => {
            audits::order_clawback(state, context, clawback_id, redemption_id, amount, reason)
        }
        Command::RecordRecovery { clawback_id, amount } => {
            audits::record_recovery(state, context, clawback_id, amount)
        }
        Command::RecordReferral { referral_id, party, authority, note } => {
            audits::record_referral(state, context, referral_id, party, authority, note)
        }
        Command::CloseProviderAnnouncement { provider } => {
            deadlines::close_provider_announcement(state, context, provider)
        }
        Command::CloseRedemptionAnnouncement { announcement_id } => {
            deadlines::close_redemption_announcement(state, context, announcement_id)
        }
        Command::ExpireVoucher { voucher_id } => deadlines::expire_voucher(state, context, voucher_id),
        Command::LapseRedemptionWindow { contract_id } => {
            deadlines::lapse_redemption_window(state, context, contract_id)
        }
    }
}
