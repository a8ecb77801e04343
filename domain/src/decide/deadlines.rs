//! Deadlines (SPEC §4, DESIGN §1): the commands the scheduler issues as the `system` actor when a date has
//! passed, and [`due_commands`], which lists them.

use chrono::NaiveDate;
use uuid::Uuid;

use super::guards::{contract, not_found, require_system};
use crate::state::{ContractStatus, Deadline, ProviderStatus, State};
use crate::{Account, Command, Context, CreditCode, Event, Rejection};

pub(super) fn close_provider_announcement(
    state: &State,
    context: &Context,
    provider: &CreditCode,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    require_system(actor)?;
    let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
    match state_of.status {
        ProviderStatus::Announced { closes_on } if date > closes_on && state_of.objections_open == 0 => {
            Ok(vec![Event::ProviderAdmitted { provider: provider.clone() }])
        }
        _ => Err(Rejection::NothingDue(format!("provider {provider} is not due for admission"))),
    }
}

pub(super) fn close_redemption_announcement(
    state: &State,
    context: &Context,
    announcement_id: &Uuid,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    require_system(actor)?;
    let announcement =
        state.announcements.get(announcement_id).ok_or_else(|| not_found("announcement", announcement_id))?;
    if announcement.closed || date <= announcement.closes_on {
        return Err(Rejection::NothingDue(format!("announcement {announcement_id} is not due to close")));
    }
    Ok(vec![Event::RedemptionAnnouncementClosed { announcement_id: *announcement_id }])
}

pub(super) fn expire_voucher(
    state: &State,
    context: &Context,
    voucher_id: &Uuid,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    require_system(actor)?;
    let voucher = state.vouchers.get(voucher_id).ok_or_else(|| not_found("voucher", voucher_id))?;
    if voucher.expired || date <= voucher.valid_until {
        return Err(Rejection::NothingDue(format!("voucher {voucher_id} is not due to expire")));
    }
    let available =
        state.ledger.balance(voucher.jurisdiction, &Account::VoucherAvailable { voucher_id: *voucher_id });
    Ok(vec![Event::VoucherExpired {
        voucher_id: *voucher_id,
        jurisdiction: voucher.jurisdiction,
        fiscal_year: voucher.fiscal_year,
        returned: available.try_into_cny(),
    }])
}

pub(super) fn lapse_redemption_window(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
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
        _ => Err(Rejection::NothingDue(format!("contract {contract_id} has no lapsed redemption window"))),
    }
}

/// The commands the scheduler should issue on `date`: every deadline that has passed (SPEC §4, DESIGN §1).
/// Deciding them is idempotent: a command no longer due is refused with `nothing_due`.
///
/// Reads the state's deadline index (ordered by due date) up to `date`, so a tick where nothing is due costs
/// one look at the index's first entry. The answer is exactly [`due_commands_by_scan`]'s: the same commands
/// in the same order (providers, announcements, vouchers, contracts; each kind by id).
pub fn due_commands(state: &State, date: NaiveDate) -> Vec<Command> {
    let mut providers = Vec::new();
    let mut announcements = Vec::new();
    let mut vouchers = Vec::new();
    let mut contracts = Vec::new();
    for deadline in state.deadlines_before(date) {
        match deadline {
            Deadline::Provider(code) => {
                if state.providers.get(code).is_some_and(|p| p.objections_open == 0) {
                    providers.push(code.clone());
                }
            }
            Deadline::Announcement(id) => announcements.push(*id),
            Deadline::Voucher(id) => vouchers.push(*id),
            Deadline::Contract(id) => contracts.push(*id),
        }
    }
    providers.sort();
    announcements.sort();
    vouchers.sort();
    contracts.sort();
    let mut due =
        Vec::with_capacity(providers.len() + announcements.len() + vouchers.len() + contracts.len());
    due.extend(providers.into_iter().map(|provider| Command::CloseProviderAnnouncement { provider }));
    due.extend(
        announcements
            .into_iter()
            .map(|announcement_id| Command::CloseRedemptionAnnouncement { announcement_id }),
    );
    due.extend(vouchers.into_iter().map(|voucher_id| Command::ExpireVoucher { voucher_id }));
    due.extend(contracts.into_iter().map(|contract_id| Command::LapseRedemptionWindow { contract_id }));
    due
}

/// [`due_commands`] by a scan of every provider, announcement, voucher and contract: the reference the index
/// is tested against (`domain/tests/it/deadlines.rs`) and the "before" of the scheduler's benchmark.
pub fn due_commands_by_scan(state: &State, date: NaiveDate) -> Vec<Command> {
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
