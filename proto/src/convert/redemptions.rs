//! Redemptions: a provider's request, its review, disbursement or denial.

use domain::Event;
use domain::event::ReviewOutcome;

use super::EventMessage;
use super::fields::{denial_ground, denial_ground_name, parse, required, uuid};
use crate::record::{CodecError, uuid_to_bytes};
use crate::v1;

// RedemptionRequested

impl EventMessage for v1::RedemptionRequested {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionRequested {
            redemption_id,
            contract_id,
            jurisdiction,
            provider,
            amount,
            invoice,
            remittance_proof,
            results,
        } = event
        else {
            return None;
        };
        Some(v1::RedemptionRequested {
            redemption_id: uuid_to_bytes(*redemption_id),
            contract_id: uuid_to_bytes(*contract_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            amount: amount.to_string(),
            invoice: Some(invoice.into()),
            remittance_proof: Some(remittance_proof.into()),
            results: results.iter().map(Into::into).collect(),
        })
    }
}

impl TryFrom<v1::RedemptionRequested> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionRequested) -> Result<Self, CodecError> {
        Ok(Event::RedemptionRequested {
            redemption_id: uuid("RedemptionRequested.redemption_id", &message.redemption_id)?,
            contract_id: uuid("RedemptionRequested.contract_id", &message.contract_id)?,
            jurisdiction: parse("RedemptionRequested.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionRequested.provider", &message.provider)?,
            amount: parse("RedemptionRequested.amount", &message.amount)?,
            invoice: required("RedemptionRequested.invoice", message.invoice)?.try_into()?,
            remittance_proof: required("RedemptionRequested.remittance_proof", message.remittance_proof)?
                .try_into()?,
            results: message.results.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
        })
    }
}

// RedemptionReviewed

impl EventMessage for v1::RedemptionReviewed {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionReviewed {
            redemption_id,
            jurisdiction,
            provider,
            fiscal_year,
            outcome,
            approved,
            returned,
        } = event
        else {
            return None;
        };
        Some(v1::RedemptionReviewed {
            redemption_id: uuid_to_bytes(*redemption_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            outcome: Some(outcome.into()),
            approved: approved.map(|amount| amount.to_string()),
            returned: returned.map(|amount| amount.to_string()),
        })
    }
}

impl TryFrom<v1::RedemptionReviewed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionReviewed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionReviewed {
            redemption_id: uuid("RedemptionReviewed.redemption_id", &message.redemption_id)?,
            jurisdiction: parse("RedemptionReviewed.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionReviewed.provider", &message.provider)?,
            fiscal_year: message.fiscal_year,
            outcome: required("RedemptionReviewed.outcome", message.outcome)?.try_into()?,
            approved: message
                .approved
                .map(|amount| parse("RedemptionReviewed.approved", &amount))
                .transpose()?,
            returned: message
                .returned
                .map(|amount| parse("RedemptionReviewed.returned", &amount))
                .transpose()?,
        })
    }
}

// RedemptionDisbursed

impl EventMessage for v1::RedemptionDisbursed {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionDisbursed { redemption_id, jurisdiction, provider, amount, payment_reference } =
            event
        else {
            return None;
        };
        Some(v1::RedemptionDisbursed {
            redemption_id: uuid_to_bytes(*redemption_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            amount: amount.to_string(),
            payment_reference: payment_reference.clone(),
        })
    }
}

impl TryFrom<v1::RedemptionDisbursed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionDisbursed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionDisbursed {
            redemption_id: uuid("RedemptionDisbursed.redemption_id", &message.redemption_id)?,
            jurisdiction: parse("RedemptionDisbursed.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionDisbursed.provider", &message.provider)?,
            amount: parse("RedemptionDisbursed.amount", &message.amount)?,
            payment_reference: message.payment_reference,
        })
    }
}

// RedemptionDenied

impl EventMessage for v1::RedemptionDenied {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionDenied {
            redemption_id,
            jurisdiction,
            provider,
            fiscal_year,
            ground,
            reason,
            returned,
        } = event
        else {
            return None;
        };
        Some(v1::RedemptionDenied {
            redemption_id: uuid_to_bytes(*redemption_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            ground: denial_ground_name(*ground).to_owned(),
            reason: reason.clone(),
            returned: returned.to_string(),
        })
    }
}

impl TryFrom<v1::RedemptionDenied> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionDenied) -> Result<Self, CodecError> {
        Ok(Event::RedemptionDenied {
            redemption_id: uuid("RedemptionDenied.redemption_id", &message.redemption_id)?,
            jurisdiction: parse("RedemptionDenied.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionDenied.provider", &message.provider)?,
            fiscal_year: message.fiscal_year,
            ground: denial_ground("RedemptionDenied.ground", &message.ground)?,
            reason: message.reason,
            returned: parse("RedemptionDenied.returned", &message.returned)?,
        })
    }
}

impl From<&ReviewOutcome> for v1::ReviewOutcome {
    fn from(outcome: &ReviewOutcome) -> Self {
        use v1::review_outcome::{Decision, Full, Reduced, Rejected};
        let decision = match outcome {
            ReviewOutcome::Full => Decision::Full(Full {}),
            ReviewOutcome::Reduced { approved, reason } => {
                Decision::Reduced(Reduced { approved: approved.to_string(), reason: reason.clone() })
            }
            ReviewOutcome::Rejected { reason } => Decision::Rejected(Rejected { reason: reason.clone() }),
        };
        v1::ReviewOutcome { decision: Some(decision) }
    }
}

impl TryFrom<v1::ReviewOutcome> for ReviewOutcome {
    type Error = CodecError;

    fn try_from(message: v1::ReviewOutcome) -> Result<Self, CodecError> {
        use v1::review_outcome::Decision;
        Ok(match required("ReviewOutcome.decision", message.decision)? {
            Decision::Full(_) => ReviewOutcome::Full,
            Decision::Reduced(reduced) => ReviewOutcome::Reduced {
                approved: parse("ReviewOutcome.Reduced.approved", &reduced.approved)?,
                reason: reduced.reason,
            },
            Decision::Rejected(rejected) => ReviewOutcome::Rejected { reason: rejected.reason },
        })
    }
}
