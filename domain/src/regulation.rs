//! `decide` for the regulation's later lifecycles (SPEC §4): providers (art. 8), contracts and ratings
//! (art. 9, 10), redemptions and announcements (art. 11), denials, audits and clawbacks (art. 12, 13), and
//! the deadlines the scheduler turns into events. Pure: state and command in, events or a rejection out.

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::decide::{forbidden, policy_in_force, require_role, require_service_center, required_reason};
use crate::event::{ContractTerms, ObjectionTarget, Party, ProviderApplication, ReviewOutcome, Ruling};
use crate::state::{
    ApplicantStatus, ContractState, ContractStatus, ProviderStatus, RedemptionState, RedemptionStatus, State,
};
use crate::{
    Account, Actor, Balance, Cny, Command, Context, CreditCode, Event, Jurisdiction, Rejection, Role,
};

/// The largest audit sample drawn at once.
const SAMPLE_SIZE_MAX: u32 = crate::bounds::MAX_SAMPLE_SIZE;

/// Decides the commands of the later lifecycles. `crate::decide::decide` dispatches here.
///
/// # Errors
/// A [`Rejection`] naming the broken rule.
pub(crate) fn decide(state: &State, context: &Context, command: &Command) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    match command {
        Command::ApplyAsProvider { name, categories, qualifications, contact } => {
            let (provider, jurisdiction) = match (&actor.credit_code, actor.role, actor.jurisdiction) {
                (Some(code), Role::Provider, Some(jurisdiction)) => (code.clone(), jurisdiction),
                _ => return Err(forbidden(actor, "apply as a provider")),
            };
            if state.providers.contains_key(&provider) {
                return Err(exists("provider", &provider));
            }
            let policy = policy_in_force(state, context, jurisdiction)?;
            if name.trim().is_empty() {
                return Err(Rejection::Invalid("name must not be empty".into()));
            }
            if categories.is_empty() {
                return Err(Rejection::Invalid("categories must not be empty".into()));
            }
            if let Some(unknown) = categories.iter().find(|c| !policy.service_categories.contains(*c)) {
                return Err(Rejection::Invalid(format!(
                    "service category \"{unknown}\" is not in policy {}",
                    policy.id
                )));
            }
            if qualifications.is_empty() {
                return Err(Rejection::Invalid("at least one qualification document is required".into()));
            }
            for document in qualifications {
                document.validate().map_err(|error| Rejection::Invalid(error.to_string()))?;
            }
            Ok(vec![Event::ProviderApplied {
                application: ProviderApplication {
                    provider,
                    name: name.trim().to_owned(),
                    jurisdiction,
                    categories: categories.clone(),
                    qualifications: qualifications.clone(),
                    contact: contact.trim().to_owned(),
                },
            }])
        }
        Command::DecideProvider { provider, approve, reason } => {
            let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
            require_role(
                actor,
                Role::Bureau,
                Some(state_of.application.jurisdiction),
                "decide provider applications",
            )?;
            if state_of.status != ProviderStatus::Applied {
                return Err(invalid_state(
                    "provider",
                    provider,
                    provider_status(&state_of.status),
                    "a decision",
                ));
            }
            if *approve {
                let policy = policy_for_provider_decision(state, context, state_of.application.jurisdiction)?;
                let closes =
                    state.calendar.working_days_after(date, policy.provider_announcement_working_days)?;
                Ok(vec![Event::ProviderApproved {
                    provider: provider.clone(),
                    announced_on: date,
                    announcement_closes: closes,
                }])
            } else {
                let reason = required_reason(reason, "a rejection")?;
                Ok(vec![Event::ProviderRejected { provider: provider.clone(), reason }])
            }
        }
        Command::SuspendProvider { provider, reason } => {
            let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
            require_role(actor, Role::Bureau, Some(state_of.application.jurisdiction), "suspend providers")?;
            if state_of.suspended {
                return Err(invalid_state("provider", provider, "suspended", "a suspension"));
            }
            let reason = required_reason(reason, "a suspension")?;
            Ok(vec![Event::ProviderSuspended { provider: provider.clone(), reason }])
        }
        Command::FileObjection { objection_id, target, text } => {
            if state.objections.contains_key(objection_id) {
                return Err(exists("objection", objection_id));
            }
            let text = text.trim();
            if text.is_empty() {
                return Err(Rejection::Invalid("an objection needs a text".into()));
            }
            let (jurisdiction, closes_on) = match target {
                ObjectionTarget::Provider { provider } => {
                    let state_of =
                        state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
                    match state_of.status {
                        ProviderStatus::Announced { closes_on } => {
                            (state_of.application.jurisdiction, closes_on)
                        }
                        _ => {
                            return Err(invalid_state(
                                "provider",
                                provider,
                                provider_status(&state_of.status),
                                "an objection",
                            ));
                        }
                    }
                }
                ObjectionTarget::Redemption { redemption_id } => {
                    let redemption = redemption(state, redemption_id)?;
                    // The list the redemption was announced on, whether or not the scheduler closed it yet: a
                    // late objection is late whatever the redemption's state.
                    let announcement = state
                        .announcements
                        .values()
                        .find(|announcement| announcement.redemption_ids.contains(redemption_id));
                    match announcement {
                        Some(announcement) if date > announcement.closes_on => {
                            return Err(Rejection::AnnouncementClosed { closes_on: announcement.closes_on });
                        }
                        Some(announcement)
                            if matches!(redemption.status, RedemptionStatus::Announced { .. }) =>
                        {
                            (announcement.jurisdiction, announcement.closes_on)
                        }
                        _ => {
                            return Err(invalid_state(
                                "redemption",
                                redemption_id,
                                redemption_status(redemption),
                                "an objection",
                            ));
                        }
                    }
                }
            };
            if date > closes_on {
                return Err(Rejection::AnnouncementClosed { closes_on });
            }
            check_objections_open_below_limit(state, target)?;
            Ok(vec![Event::ObjectionFiled {
                objection_id: *objection_id,
                target: target.clone(),
                jurisdiction,
                text: text.to_owned(),
            }])
        }
        Command::RuleOnObjection { objection_id, ruling, reason } => {
            let objection =
                state.objections.get(objection_id).ok_or_else(|| not_found("objection", objection_id))?;
            require_role(actor, Role::Bureau, Some(objection.jurisdiction), "rule on objections")?;
            if objection.ruling.is_some() {
                return Err(invalid_state("objection", objection_id, "ruled", "a ruling"));
            }
            let reason = required_reason(reason, "a ruling")?;
            let mut events = vec![Event::ObjectionRuled {
                objection_id: *objection_id,
                ruling: *ruling,
                reason: reason.clone(),
            }];
            if *ruling == Ruling::Upheld {
                match &objection.target {
                    ObjectionTarget::Provider { provider } => {
                        events.push(Event::ProviderRejected {
                            provider: provider.clone(),
                            reason: format!("objection upheld: {reason}"),
                        });
                    }
                    ObjectionTarget::Redemption { redemption_id } => {
                        let redemption = redemption(state, redemption_id)?;
                        if let Some(returned) = redemption.outstanding() {
                            events.push(Event::RedemptionStruck {
                                redemption_id: *redemption_id,
                                objection_id: *objection_id,
                                jurisdiction: redemption.jurisdiction,
                                provider: redemption.provider.clone(),
                                fiscal_year: redemption.fiscal_year,
                                returned,
                            });
                        }
                    }
                }
            }
            Ok(events)
        }
        Command::SubmitContract { contract_id, voucher_id, provider, .. } => {
            if state.contracts.contains_key(contract_id) {
                return Err(exists("contract", contract_id));
            }
            let voucher = state.vouchers.get(voucher_id).ok_or_else(|| not_found("voucher", voucher_id))?;
            let submitted_by = match party_acting(state, actor, provider, &voucher.applicant) {
                Some(party) => party,
                None => return Err(forbidden(actor, "submit a contract for another party")),
            };
            let terms = contract_terms(state, context, command)?;
            Ok(vec![Event::ContractSubmitted { contract_id: *contract_id, terms, submitted_by }])
        }
        Command::SignContract { contract_id } => {
            let contract = contract(state, contract_id)?;
            let counterparty = contract.submitted_by.counterparty();
            if party_of(state, actor, contract) != Some(counterparty) {
                return Err(forbidden(actor, "sign this contract"));
            }
            if contract.status != ContractStatus::Submitted || contract.countersigned {
                return Err(invalid_state("contract", contract_id, contract_status(contract), "a signature"));
            }
            Ok(vec![Event::ContractSigned { contract_id: *contract_id, party: counterparty }])
        }
        Command::FileContract { contract_id } => {
            let contract = contract(state, contract_id)?;
            require_service_center(actor, contract.terms.jurisdiction, "file contracts")?;
            if contract.status != ContractStatus::Submitted || !contract.countersigned {
                let status =
                    if contract.countersigned { contract_status(contract) } else { "awaiting a signature" };
                return Err(invalid_state("contract", contract_id, status, "a filing"));
            }
            check_provider_may_contract(state, &contract.terms.provider, &contract.terms.category)?;
            let voucher_id = contract.terms.voucher_id;
            check_voucher_available(state, voucher_id, contract.terms.voucher_amount, date)?;
            Ok(vec![Event::ContractFiled {
                contract_id: *contract_id,
                voucher_id,
                jurisdiction: contract.terms.jurisdiction,
                amount: contract.terms.voucher_amount,
                filed_on: date,
            }])
        }
        Command::RejectContract { contract_id, reason } => {
            let contract = contract(state, contract_id)?;
            require_service_center(actor, contract.terms.jurisdiction, "reject contracts")?;
            if contract.status != ContractStatus::Submitted {
                return Err(invalid_state("contract", contract_id, contract_status(contract), "a rejection"));
            }
            let reason = required_reason(reason, "a rejection")?;
            Ok(vec![Event::ContractRejected { contract_id: *contract_id, reason }])
        }
        Command::CancelContract { contract_id, reason } => {
            let contract = contract(state, contract_id)?;
            if party_of(state, actor, contract).is_none() {
                return Err(forbidden(actor, "cancel this contract"));
            }
            let released = match contract.status {
                ContractStatus::Submitted => None,
                ContractStatus::Filed { .. } => Some(contract.terms.voucher_amount),
                _ => {
                    return Err(invalid_state(
                        "contract",
                        contract_id,
                        contract_status(contract),
                        "a cancellation",
                    ));
                }
            };
            let reason = required_reason(reason, "a cancellation")?;
            let voucher_id = contract.terms.voucher_id;
            let mut events = vec![Event::ContractCancelled {
                contract_id: *contract_id,
                voucher_id,
                jurisdiction: contract.terms.jurisdiction,
                released,
                reason,
            }];
            events.extend(return_after_expiry(state, *contract_id, voucher_id, released, date));
            Ok(events)
        }
        Command::ConfirmCompletion { contract_id } => {
            let contract = contract(state, contract_id)?;
            if party_of(state, actor, contract) != Some(Party::Applicant) {
                return Err(forbidden(actor, "confirm completion of this contract"));
            }
            if !matches!(contract.status, ContractStatus::Filed { .. }) {
                return Err(invalid_state(
                    "contract",
                    contract_id,
                    contract_status(contract),
                    "a completion",
                ));
            }
            let redemption_days = state
                .vouchers
                .get(&contract.terms.voucher_id)
                .and_then(|voucher| state.batches.get(&voucher.batch_id))
                .map_or(0, |batch| batch.guide.redemption_days);
            Ok(vec![Event::ServiceCompleted {
                contract_id: *contract_id,
                voucher_id: contract.terms.voucher_id,
                jurisdiction: contract.terms.jurisdiction,
                provider: contract.terms.provider.clone(),
                amount: contract.terms.voucher_amount,
                completed_on: date,
                redemption_deadline: crate::bounds::days_after(date, redemption_days)?,
            }])
        }
        Command::RateService { contract_id, quality, timeliness, professionalism, text } => {
            let contract = contract(state, contract_id)?;
            if party_of(state, actor, contract) != Some(Party::Applicant) {
                return Err(forbidden(actor, "rate this contract"));
            }
            if !matches!(contract.status, ContractStatus::Completed { .. }) {
                return Err(invalid_state("contract", contract_id, contract_status(contract), "a rating"));
            }
            if contract.rated {
                return Err(Rejection::AlreadyRated(*contract_id));
            }
            for (name, score) in
                [("quality", quality), ("timeliness", timeliness), ("professionalism", professionalism)]
            {
                if !(1..=5).contains(score) {
                    return Err(Rejection::Invalid(format!("{name} must be 1 to 5, not {score}")));
                }
            }
            Ok(vec![Event::ServiceRated {
                contract_id: *contract_id,
                provider: contract.terms.provider.clone(),
                category: contract.terms.category.clone(),
                quality: *quality,
                timeliness: *timeliness,
                professionalism: *professionalism,
                text: text.trim().to_owned(),
            }])
        }
        Command::RequestRedemption { redemption_id, contract_id, invoice, remittance_proof, results } => {
            if state.redemptions.contains_key(redemption_id) {
                return Err(exists("redemption", redemption_id));
            }
            let contract = contract(state, contract_id)?;
            if party_of(state, actor, contract) != Some(Party::Provider) {
                return Err(forbidden(actor, "request redemption of this contract"));
            }
            let ContractStatus::Completed { redemption_deadline, .. } = contract.status else {
                return Err(invalid_state(
                    "contract",
                    contract_id,
                    contract_status(contract),
                    "a redemption",
                ));
            };
            if contract.redemption_id.is_some() || contract.lapsed {
                let status = if contract.lapsed { "lapsed" } else { "already redeemed" };
                return Err(invalid_state("contract", contract_id, status, "a redemption"));
            }
            if date > redemption_deadline {
                return Err(Rejection::RedemptionDeadlinePassed { deadline: redemption_deadline });
            }
            if results.is_empty() {
                return Err(Rejection::Invalid("at least one service-result document is required".into()));
            }
            for document in std::iter::once(invoice).chain(std::iter::once(remittance_proof)).chain(results) {
                document.validate().map_err(|error| Rejection::Invalid(error.to_string()))?;
            }
            Ok(vec![Event::RedemptionRequested {
                redemption_id: *redemption_id,
                contract_id: *contract_id,
                jurisdiction: contract.terms.jurisdiction,
                provider: contract.terms.provider.clone(),
                amount: contract.terms.voucher_amount,
                invoice: invoice.clone(),
                remittance_proof: remittance_proof.clone(),
                results: results.clone(),
            }])
        }
        Command::ReviewRedemption { redemption_id, outcome } => {
            let redemption = redemption(state, redemption_id)?;
            require_role(actor, Role::Reviewer, Some(redemption.jurisdiction), "review redemptions")?;
            if redemption.status != RedemptionStatus::Requested {
                return Err(invalid_state(
                    "redemption",
                    redemption_id,
                    redemption_status(redemption),
                    "a review",
                ));
            }
            let requested = redemption.requested;
            let (outcome, approved, returned) = match outcome {
                ReviewOutcome::Full => (ReviewOutcome::Full, Some(requested), None),
                ReviewOutcome::Reduced { approved, reason } => {
                    if *approved >= requested {
                        return Err(Rejection::Invalid(format!(
                            "a reduced approval {approved} must be less than the {requested} requested"
                        )));
                    }
                    let reason = required_reason(reason, "a reduction")?;
                    let returned = Balance::from(requested).sub(*approved).try_into_cny();
                    (ReviewOutcome::Reduced { approved: *approved, reason }, Some(*approved), returned)
                }
                ReviewOutcome::Rejected { reason } => {
                    let reason = required_reason(reason, "a rejection")?;
                    (ReviewOutcome::Rejected { reason }, None, Some(requested))
                }
            };
            Ok(vec![Event::RedemptionReviewed {
                redemption_id: *redemption_id,
                jurisdiction: redemption.jurisdiction,
                provider: redemption.provider.clone(),
                fiscal_year: redemption.fiscal_year,
                outcome,
                approved,
                returned,
            }])
        }
        Command::AnnounceRedemptions { announcement_id, jurisdiction, redemption_ids } => {
            require_role(actor, Role::Bureau, Some(*jurisdiction), "announce redemptions")?;
            if state.announcements.contains_key(announcement_id) {
                return Err(exists("announcement", announcement_id));
            }
            if redemption_ids.is_empty() {
                return Err(Rejection::Invalid("an announcement lists at least one redemption".into()));
            }
            let mut seen = std::collections::HashSet::new();
            for redemption_id in redemption_ids {
                let item = redemption(state, redemption_id)?;
                if item.jurisdiction != *jurisdiction {
                    return Err(Rejection::Invalid(format!(
                        "redemption {redemption_id} belongs to {}",
                        item.jurisdiction
                    )));
                }
                if item.status != RedemptionStatus::Approved || !seen.insert(*redemption_id) {
                    return Err(invalid_state(
                        "redemption",
                        redemption_id,
                        redemption_status(item),
                        "an announcement",
                    ));
                }
            }
            let working_days = announcement_working_days(state, redemption_ids, date)?;
            let closes_on = state.calendar.working_days_after(date, working_days)?;
            Ok(vec![Event::RedemptionsAnnounced {
                announcement_id: *announcement_id,
                jurisdiction: *jurisdiction,
                redemption_ids: redemption_ids.clone(),
                announced_on: date,
                closes_on,
            }])
        }
        Command::DisburseRedemption { redemption_id, payment_reference } => {
            let item = redemption(state, redemption_id)?;
            require_role(actor, Role::Bureau, Some(item.jurisdiction), "disburse redemptions")?;
            let not_payable =
                |reason: &str| Rejection::NotPayable { redemption_id: *redemption_id, reason: reason.into() };
            match item.status {
                RedemptionStatus::Payable => {}
                RedemptionStatus::Disbursed => return Err(Rejection::AlreadyDisbursed(*redemption_id)),
                RedemptionStatus::Announced { .. } => {
                    return Err(not_payable("its announcement has not closed"));
                }
                _ => return Err(not_payable(redemption_status(item))),
            }
            if item.objections_open > 0 {
                return Err(not_payable("an objection is open"));
            }
            let reference = payment_reference.trim();
            if reference.is_empty() {
                return Err(Rejection::Invalid("a disbursement needs a payment reference".into()));
            }
            let amount = item.approved.ok_or_else(|| not_payable("nothing approved"))?;
            Ok(vec![Event::RedemptionDisbursed {
                redemption_id: *redemption_id,
                jurisdiction: item.jurisdiction,
                provider: item.provider.clone(),
                amount,
                payment_reference: reference.to_owned(),
            }])
        }
        Command::DenyRedemption { redemption_id, ground, reason } => {
            let item = redemption(state, redemption_id)?;
            require_role(actor, Role::Bureau, Some(item.jurisdiction), "deny redemptions")?;
            if item.status == RedemptionStatus::Disbursed {
                return Err(Rejection::AlreadyDisbursed(*redemption_id));
            }
            let returned = item.outstanding().ok_or_else(|| {
                invalid_state("redemption", redemption_id, redemption_status(item), "a denial")
            })?;
            let reason = required_reason(reason, "a denial")?;
            Ok(vec![Event::RedemptionDenied {
                redemption_id: *redemption_id,
                jurisdiction: item.jurisdiction,
                provider: item.provider.clone(),
                fiscal_year: item.fiscal_year,
                ground: *ground,
                reason,
                returned,
            }])
        }
        Command::DrawSample { sample_id, jurisdiction, year, size, seed } => {
            // Each bureau commissions checks of its own jurisdiction (Measures art. 12).
            require_role(
                actor,
                Role::Auditor,
                Some(*jurisdiction),
                "draw audit samples in this jurisdiction",
            )?;
            if state.samples.contains_key(sample_id) {
                return Err(exists("sample", sample_id));
            }
            if *size == 0 || *size > SAMPLE_SIZE_MAX {
                return Err(Rejection::Invalid(format!("sample size must be 1 to {SAMPLE_SIZE_MAX}")));
            }
            if seed.trim().is_empty() {
                return Err(Rejection::Invalid("a sample needs a seed".into()));
            }
            // A check covers the previous year (上年度, Measures art. 12) of the draw's business date.
            let previous = date.year() - 1;
            if *year != previous {
                return Err(Rejection::SampleYearNotPrevious { year: *year, previous });
            }
            let population = sample_population(state, *jurisdiction, *year);
            let contract_ids = draw_sample(&population, seed, *size);
            Ok(vec![Event::SampleDrawn {
                sample_id: *sample_id,
                jurisdiction: *jurisdiction,
                year: *year,
                size: *size,
                seed: seed.clone(),
                as_of_position: context.log_position,
                population: u32::try_from(population.len()).unwrap_or(u32::MAX),
                contract_ids,
            }])
        }
        Command::RecordFinding { sample_id, contract_id, finding, note } => {
            if actor.role != Role::Auditor {
                return Err(forbidden(actor, "record audit findings"));
            }
            let sample = state.samples.get(sample_id).ok_or_else(|| not_found("sample", sample_id))?;
            require_role(
                actor,
                Role::Auditor,
                Some(sample.jurisdiction),
                "record findings in this jurisdiction",
            )?;
            if !sample.contract_ids.contains(contract_id) {
                return Err(Rejection::NotInSample { sample_id: *sample_id, contract_id: *contract_id });
            }
            Ok(vec![Event::FindingRecorded {
                sample_id: *sample_id,
                contract_id: *contract_id,
                finding: *finding,
                note: note.trim().to_owned(),
            }])
        }
        Command::OrderClawback { clawback_id, redemption_id, amount, reason } => {
            let item = redemption(state, redemption_id)?;
            require_role(actor, Role::Bureau, Some(item.jurisdiction), "order clawbacks")?;
            if state.clawbacks.contains_key(clawback_id) {
                return Err(exists("clawback", clawback_id));
            }
            let remaining = item.disbursed.checked_sub(item.clawed_back);
            if Balance::from(*amount) > remaining {
                return Err(Rejection::ClawbackExceedsDisbursed {
                    requested: *amount,
                    remaining: remaining.to_string(),
                });
            }
            let reason = required_reason(reason, "a clawback")?;
            Ok(vec![Event::ClawbackOrdered {
                clawback_id: *clawback_id,
                redemption_id: *redemption_id,
                jurisdiction: item.jurisdiction,
                provider: item.provider.clone(),
                amount: *amount,
                reason,
            }])
        }
        Command::RecordRecovery { clawback_id, amount } => {
            let clawback =
                state.clawbacks.get(clawback_id).ok_or_else(|| not_found("clawback", clawback_id))?;
            require_role(actor, Role::Bureau, Some(clawback.jurisdiction), "record recoveries")?;
            let due = Balance::from(clawback.amount).checked_sub(clawback.recovered);
            if Balance::from(*amount) > due {
                return Err(Rejection::RecoveryExceedsDue { requested: *amount, due: due.to_string() });
            }
            Ok(vec![Event::ClawbackRecovered {
                clawback_id: *clawback_id,
                jurisdiction: clawback.jurisdiction,
                amount: *amount,
            }])
        }
        Command::RecordReferral { referral_id, party, authority, note } => {
            if actor.role != Role::Bureau {
                return Err(forbidden(actor, "record referrals"));
            }
            let known = state.applicants.contains_key(party) || state.providers.contains_key(party);
            if !known {
                return Err(not_found("party", party));
            }
            if !actor.jurisdiction.is_some_and(|own| party_jurisdictions(state, party).contains(&own)) {
                return Err(forbidden(actor, "refer a party of another jurisdiction"));
            }
            if state.referrals.contains_key(referral_id) {
                return Err(exists("referral", referral_id));
            }
            let authority = authority.trim();
            if authority.is_empty() {
                return Err(Rejection::Invalid("a referral names the authority".into()));
            }
            Ok(vec![Event::ReferralRecorded {
                referral_id: *referral_id,
                party: party.clone(),
                authority: authority.to_owned(),
                note: note.trim().to_owned(),
            }])
        }
        Command::CloseProviderAnnouncement { provider } => {
            require_system(actor)?;
            let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
            match state_of.status {
                ProviderStatus::Announced { closes_on }
                    if date > closes_on && state_of.objections_open == 0 =>
                {
                    Ok(vec![Event::ProviderAdmitted { provider: provider.clone() }])
                }
                _ => Err(Rejection::NothingDue(format!("provider {provider} is not due for admission"))),
            }
        }
        Command::CloseRedemptionAnnouncement { announcement_id } => {
            require_system(actor)?;
            let announcement = state
                .announcements
                .get(announcement_id)
                .ok_or_else(|| not_found("announcement", announcement_id))?;
            if announcement.closed || date <= announcement.closes_on {
                return Err(Rejection::NothingDue(format!(
                    "announcement {announcement_id} is not due to close"
                )));
            }
            Ok(vec![Event::RedemptionAnnouncementClosed { announcement_id: *announcement_id }])
        }
        Command::ExpireVoucher { voucher_id } => {
            require_system(actor)?;
            let voucher = state.vouchers.get(voucher_id).ok_or_else(|| not_found("voucher", voucher_id))?;
            if voucher.expired || date <= voucher.valid_until {
                return Err(Rejection::NothingDue(format!("voucher {voucher_id} is not due to expire")));
            }
            let available = state
                .ledger
                .balance(voucher.jurisdiction, &Account::VoucherAvailable { voucher_id: *voucher_id });
            Ok(vec![Event::VoucherExpired {
                voucher_id: *voucher_id,
                jurisdiction: voucher.jurisdiction,
                fiscal_year: voucher.fiscal_year,
                returned: available.try_into_cny(),
            }])
        }
        Command::LapseRedemptionWindow { contract_id } => {
            require_system(actor)?;
            let contract = contract(state, contract_id)?;
            match contract.status {
                ContractStatus::Completed { redemption_deadline, .. }
                    if date > redemption_deadline && contract.redemption_id.is_none() && !contract.lapsed =>
                {
                    Ok(vec![Event::RedemptionWindowLapsed {
                        contract_id: *contract_id,
                        jurisdiction: contract.terms.jurisdiction,
                        provider: contract.terms.provider.clone(),
                        fiscal_year: state.contract_fiscal_year(contract_id).unwrap_or_default(),
                        returned: contract.terms.voucher_amount,
                    }])
                }
                _ => Err(Rejection::NothingDue(format!(
                    "contract {contract_id} has no lapsed redemption window"
                ))),
            }
        }
        _ => Err(Rejection::Invalid(format!("{} is not a command of the later lifecycles", command.name()))),
    }
}

/// The commands the scheduler should issue on `date`: every deadline that has passed (SPEC §4, DESIGN §1).
/// Deciding them is idempotent: a command no longer due is refused with `nothing_due`.
pub fn due_commands(state: &State, date: NaiveDate) -> Vec<Command> {
    let mut due = Vec::new();
    let mut providers: Vec<_> = state
        .providers
        .iter()
        .filter(|(_, p)| {
            matches!(p.status, ProviderStatus::Announced { closes_on } if date > closes_on)
                && p.objections_open == 0
        })
        .map(|(code, _)| code.clone())
        .collect();
    providers.sort();
    due.extend(providers.into_iter().map(|provider| Command::CloseProviderAnnouncement { provider }));
    let mut announcements: Vec<_> = state
        .announcements
        .iter()
        .filter(|(_, a)| !a.closed && date > a.closes_on)
        .map(|(id, _)| *id)
        .collect();
    announcements.sort();
    due.extend(
        announcements
            .into_iter()
            .map(|announcement_id| Command::CloseRedemptionAnnouncement { announcement_id }),
    );
    let mut vouchers: Vec<_> = state
        .vouchers
        .iter()
        .filter(|(_, v)| !v.expired && date > v.valid_until)
        .map(|(id, _)| *id)
        .collect();
    vouchers.sort();
    due.extend(vouchers.into_iter().map(|voucher_id| Command::ExpireVoucher { voucher_id }));
    let mut lapsed: Vec<_> = state
        .contracts
        .iter()
        .filter(|(_, c)| {
            matches!(c.status, ContractStatus::Completed { redemption_deadline, .. } if date > redemption_deadline)
                && c.redemption_id.is_none()
                && !c.lapsed
        })
        .map(|(id, _)| *id)
        .collect();
    lapsed.sort();
    due.extend(lapsed.into_iter().map(|contract_id| Command::LapseRedemptionWindow { contract_id }));
    due
}

/// The population of an audit draw: the jurisdiction's contracts filed in `year`, in id order.
pub fn sample_population(state: &State, jurisdiction: Jurisdiction, year: i32) -> Vec<Uuid> {
    let mut population: Vec<Uuid> = state
        .contracts
        .iter()
        .filter(|(_, c)| {
            c.terms.jurisdiction == jurisdiction && c.filed_on().is_some_and(|d| d.year() == year)
        })
        .map(|(id, _)| *id)
        .collect();
    population.sort();
    population
}

/// The audit draw: rank the population by SHA-256(seed, ":", contract id) and take the first `size`.
///
/// # Properties
/// - Deterministic: the same population, seed and size give the same sample, in the same order.
/// - The sample is a subset of the population of `min(size, population)` distinct contracts.
pub fn draw_sample(population: &[Uuid], seed: &str, size: u32) -> Vec<Uuid> {
    let mut ranked: Vec<([u8; 32], Uuid)> = population
        .iter()
        .map(|id| {
            let mut hasher = Sha256::new();
            hasher.update(seed.as_bytes());
            hasher.update(b":");
            hasher.update(id.as_bytes());
            (hasher.finalize().into(), *id)
        })
        .collect();
    ranked.sort();
    ranked.into_iter().take(usize::try_from(size).unwrap_or(usize::MAX)).map(|(_, id)| id).collect()
}

/// The most objections open at once against one provider or redemption. Every objection must be read and
/// ruled on by the bureau and one open objection already holds the item; more than this many open at once is
/// a flood, not a complaint, and would only bury the bureau (and grow the permanent log) for anyone.
pub const OBJECTIONS_OPEN_MAX: u32 = 20;

/// An item takes a new objection only while fewer than [`OBJECTIONS_OPEN_MAX`] are open against it.
fn check_objections_open_below_limit(state: &State, target: &ObjectionTarget) -> Result<(), Rejection> {
    let open = match target {
        ObjectionTarget::Provider { provider } => state.providers.get(provider).map(|p| p.objections_open),
        ObjectionTarget::Redemption { redemption_id } => {
            state.redemptions.get(redemption_id).map(|r| r.objections_open)
        }
    }
    .unwrap_or(0);
    if open >= OBJECTIONS_OPEN_MAX {
        return Err(Rejection::TooManyObjectionsOpen { open, limit: OBJECTIONS_OPEN_MAX });
    }
    Ok(())
}

/// An expired voucher holds no available money (SPEC §4 Voucher): money released to a voucher past its
/// valid-until date (expired by the scheduler or about to be) goes back to the budget of the batch's fiscal
/// year in the same command, as its own posting.
fn return_after_expiry(
    state: &State,
    contract_id: Uuid,
    voucher_id: Uuid,
    released: Option<Cny>,
    date: NaiveDate,
) -> Option<Event> {
    let voucher = state.vouchers.get(&voucher_id)?;
    let returned = released?;
    (voucher.expired || date > voucher.valid_until).then_some(Event::ReturnedAfterExpiry {
        voucher_id,
        contract_id,
        jurisdiction: voucher.jurisdiction,
        fiscal_year: voucher.fiscal_year,
        returned,
    })
}

/// The announcement period of a redemption list (Measures art. 11): the longest period among the policy
/// versions recorded in its items' batches, whether or not they are still in force (SPEC §3). A list may
/// hold redemptions of batches issued under different versions; art. 11 gives the public the whole
/// announcement period to object to every item, so no item is announced for less than its own version
/// requires, and one list keeps one closing date.
///
/// # Errors
/// `no_policy_in_force` when an item's batch names a version the book does not hold (never for a batch
/// published through `decide`).
fn announcement_working_days(
    state: &State,
    redemption_ids: &[Uuid],
    date: NaiveDate,
) -> Result<u32, Rejection> {
    let mut working_days = 0;
    for redemption_id in redemption_ids {
        let item = redemption(state, redemption_id)?;
        let policy = state.contract_policy(&item.contract_id).ok_or(Rejection::NoPolicyInForce { date })?;
        working_days = working_days.max(policy.redemption_announcement_working_days);
    }
    Ok(working_days)
}

/// The version a provider's application is decided under: the one in force, or, once the last version has
/// expired with no successor, the last one that was in force (SPEC §3). An application is accepted only
/// under a version in force, so a pending one was made under that last version (or an earlier one that it
/// replaced); its vouchers, still spendable, need admitted providers, so the decision goes on under it.
///
/// # Errors
/// `no_policy_in_force` when no version has started by the business date.
fn policy_for_provider_decision<'a>(
    state: &'a State,
    context: &Context,
    jurisdiction: Jurisdiction,
) -> Result<&'a crate::PolicyVersion, Rejection> {
    let date = context.business_date;
    policy_in_force(state, context, jurisdiction).or_else(|refused| {
        state
            .policies
            .versions()
            .iter()
            .filter(|version| version.covers(jurisdiction) && version.effective_from <= date)
            .max_by_key(|version| version.effective_until)
            .ok_or(refused)
    })
}

/// Builds and checks a submitted contract's terms (Measures art. 9, 10).
fn contract_terms(state: &State, context: &Context, command: &Command) -> Result<ContractTerms, Rejection> {
    let Command::SubmitContract {
        voucher_id,
        provider,
        category,
        description,
        term_start,
        term_end,
        total,
        voucher_amount,
        document_sha256,
        ..
    } = command
    else {
        return Err(Rejection::Invalid("not a contract submission".into()));
    };
    let voucher = state.vouchers.get(voucher_id).ok_or_else(|| not_found("voucher", voucher_id))?;
    if *provider == voucher.applicant {
        return Err(Rejection::SameLegalPerson(provider.clone()));
    }
    let applicant = state
        .applicants
        .get(&voucher.applicant)
        .ok_or_else(|| Rejection::ApplicantNotFound(voucher.applicant.clone()))?;
    if let ApplicantStatus::Suspended { .. } = applicant.status {
        return Err(Rejection::ApplicantNotVerified {
            credit_code: voucher.applicant.clone(),
            status: "suspended",
        });
    }
    check_provider_may_contract(state, provider, category)?;
    let batch = state.batches.get(&voucher.batch_id).ok_or(Rejection::BatchNotFound(voucher.batch_id))?;
    if !batch.guide.eligible_categories.contains(category) {
        return Err(Rejection::CategoryNotEligible { category: category.clone() });
    }
    if description.trim().is_empty() {
        return Err(Rejection::Invalid("description must not be empty".into()));
    }
    if term_end < term_start {
        return Err(Rejection::Invalid(format!("term_end {term_end} is before term_start {term_start}")));
    }
    if voucher_amount > total {
        return Err(Rejection::Invalid(format!("voucher amount {voucher_amount} exceeds the total {total}")));
    }
    let cap = batch.guide.max_voucher_share.cap_of(*total);
    if Balance::from(*voucher_amount) > cap {
        return Err(Rejection::ShareCapExceeded { requested: *voucher_amount, cap: cap.to_string() });
    }
    check_voucher_available(state, *voucher_id, *voucher_amount, context.business_date)?;
    Ok(ContractTerms {
        voucher_id: *voucher_id,
        jurisdiction: voucher.jurisdiction,
        provider: provider.clone(),
        applicant: voucher.applicant.clone(),
        category: category.clone(),
        description: description.trim().to_owned(),
        term_start: *term_start,
        term_end: *term_end,
        total: *total,
        voucher_amount: *voucher_amount,
        document_sha256: document_sha256.clone(),
    })
}

/// The provider must be admitted, not suspended, and offer the category.
fn check_provider_may_contract(
    state: &State,
    provider: &CreditCode,
    category: &str,
) -> Result<(), Rejection> {
    let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
    if state_of.status != ProviderStatus::Admitted {
        return Err(Rejection::ProviderNotAdmitted {
            provider: provider.clone(),
            status: provider_status(&state_of.status).to_owned(),
        });
    }
    if state_of.suspended {
        return Err(Rejection::ProviderSuspended(provider.clone()));
    }
    if !state_of.application.categories.contains(category) {
        return Err(Rejection::CategoryNotOffered {
            provider: provider.clone(),
            category: category.to_owned(),
        });
    }
    Ok(())
}

/// The voucher must be valid on `date` and have `amount` available.
fn check_voucher_available(
    state: &State,
    voucher_id: Uuid,
    amount: Cny,
    date: NaiveDate,
) -> Result<(), Rejection> {
    let voucher = state.vouchers.get(&voucher_id).ok_or_else(|| not_found("voucher", &voucher_id))?;
    if voucher.expired || date > voucher.valid_until {
        return Err(Rejection::VoucherExpired { voucher_id, valid_until: voucher.valid_until });
    }
    let available = state.ledger.balance(voucher.jurisdiction, &Account::VoucherAvailable { voucher_id });
    if available < Balance::from(amount) {
        return Err(Rejection::InsufficientBalance {
            voucher_id,
            available: available.to_string(),
            requested: amount,
        });
    }
    Ok(())
}

/// Which party of the contract the actor is, if any.
fn party_of(state: &State, actor: &Actor, contract: &ContractState) -> Option<Party> {
    party_acting(state, actor, &contract.terms.provider, &contract.terms.applicant)
}

/// Which of `provider` and `applicant` the actor acts as: its token must carry the party's credit code, the
/// party's role (the applicant's registered kind, or provider) and the party's jurisdiction (SPEC §2).
fn party_acting(
    state: &State,
    actor: &Actor,
    provider: &CreditCode,
    applicant: &CreditCode,
) -> Option<Party> {
    let code = actor.credit_code.as_ref()?;
    if actor.role == Role::Provider && code == provider {
        let registered = state.providers.get(provider)?;
        return (actor.jurisdiction == Some(registered.application.jurisdiction)).then_some(Party::Provider);
    }
    if code == applicant {
        let registered = &state.applicants.get(applicant)?.registration;
        let same_kind = actor.role.applicant_kind() == Some(registered.kind);
        return (same_kind && actor.jurisdiction == Some(registered.jurisdiction))
            .then_some(Party::Applicant);
    }
    None
}

fn require_system(actor: &Actor) -> Result<(), Rejection> {
    if actor.role == Role::System { Ok(()) } else { Err(forbidden(actor, "issue scheduler commands")) }
}

fn contract<'a>(state: &'a State, contract_id: &Uuid) -> Result<&'a ContractState, Rejection> {
    state.contracts.get(contract_id).ok_or_else(|| not_found("contract", contract_id))
}

fn redemption<'a>(state: &'a State, redemption_id: &Uuid) -> Result<&'a RedemptionState, Rejection> {
    state.redemptions.get(redemption_id).ok_or_else(|| not_found("redemption", redemption_id))
}

fn not_found(what: &'static str, id: &impl std::fmt::Display) -> Rejection {
    Rejection::NotFound { what, id: id.to_string() }
}

fn exists(what: &'static str, id: &impl std::fmt::Display) -> Rejection {
    Rejection::Exists { what, id: id.to_string() }
}

fn invalid_state(
    what: &'static str,
    id: &impl std::fmt::Display,
    status: &str,
    action: &'static str,
) -> Rejection {
    Rejection::InvalidState { what, id: id.to_string(), status: status.to_owned(), action }
}

/// The stable name of a provider status.
pub fn provider_status(status: &ProviderStatus) -> &'static str {
    match status {
        ProviderStatus::Applied => "applied",
        ProviderStatus::Announced { .. } => "announced",
        ProviderStatus::Admitted => "admitted",
        ProviderStatus::Rejected { .. } => "rejected",
    }
}

/// The stable name of a contract status.
pub fn contract_status(contract: &ContractState) -> &'static str {
    match contract.status {
        ContractStatus::Submitted if contract.countersigned => "signed",
        ContractStatus::Submitted => "submitted",
        ContractStatus::Filed { .. } => "filed",
        ContractStatus::Rejected => "rejected",
        ContractStatus::Cancelled => "cancelled",
        ContractStatus::Completed { .. } => "completed",
    }
}

/// The stable name of a redemption status.
pub fn redemption_status(redemption: &RedemptionState) -> &'static str {
    match redemption.status {
        RedemptionStatus::Requested => "requested",
        RedemptionStatus::Approved => "approved",
        RedemptionStatus::Announced { .. } => "announced",
        RedemptionStatus::Payable => "payable",
        RedemptionStatus::Disbursed => "disbursed",
        RedemptionStatus::Refused { reason } => reason,
    }
}

/// The jurisdictions a party belongs to, for the bureau measures that concern it (Measures art. 12): an
/// applicant's registration; a provider's admission, and every jurisdiction it has contracted in (a provider
/// may serve both, and each bureau answers for its own money).
fn party_jurisdictions(state: &State, party: &CreditCode) -> std::collections::BTreeSet<Jurisdiction> {
    let mut jurisdictions = std::collections::BTreeSet::new();
    if let Some(applicant) = state.applicants.get(party) {
        jurisdictions.insert(applicant.registration.jurisdiction);
    }
    if let Some(provider) = state.providers.get(party) {
        jurisdictions.insert(provider.application.jurisdiction);
        jurisdictions.extend(
            state.contracts.values().filter(|c| c.terms.provider == *party).map(|c| c.terms.jurisdiction),
        );
    }
    jurisdictions
}
