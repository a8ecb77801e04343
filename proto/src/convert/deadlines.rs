//! Deadlines passing: vouchers expiring, redemption windows lapsing, money returned after a voucher expired.

use domain::Event;

use super::EventMessage;
use super::fields::{parse, uuid};
use crate::record::{CodecError, uuid_to_bytes};
use crate::v1;

// VoucherExpired

impl EventMessage for v1::VoucherExpired {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::VoucherExpired { voucher_id, jurisdiction, fiscal_year, returned } = event else {
            return None;
        };
        Some(v1::VoucherExpired {
            voucher_id: uuid_to_bytes(*voucher_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            returned: returned.map(|amount| amount.to_string()),
        })
    }
}

impl TryFrom<v1::VoucherExpired> for Event {
    type Error = CodecError;

    fn try_from(message: v1::VoucherExpired) -> Result<Self, CodecError> {
        Ok(Event::VoucherExpired {
            voucher_id: uuid("VoucherExpired.voucher_id", &message.voucher_id)?,
            jurisdiction: parse("VoucherExpired.jurisdiction", &message.jurisdiction)?,
            fiscal_year: message.fiscal_year,
            returned: message.returned.map(|amount| parse("VoucherExpired.returned", &amount)).transpose()?,
        })
    }
}

// RedemptionWindowLapsed

impl EventMessage for v1::RedemptionWindowLapsed {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionWindowLapsed { contract_id, jurisdiction, provider, fiscal_year, returned } =
            event
        else {
            return None;
        };
        Some(v1::RedemptionWindowLapsed {
            contract_id: uuid_to_bytes(*contract_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            returned: returned.to_string(),
        })
    }
}

impl TryFrom<v1::RedemptionWindowLapsed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionWindowLapsed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionWindowLapsed {
            contract_id: uuid("RedemptionWindowLapsed.contract_id", &message.contract_id)?,
            jurisdiction: parse("RedemptionWindowLapsed.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionWindowLapsed.provider", &message.provider)?,
            fiscal_year: message.fiscal_year,
            returned: parse("RedemptionWindowLapsed.returned", &message.returned)?,
        })
    }
}

// ReturnedAfterExpiry

impl EventMessage for v1::ReturnedAfterExpiry {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ReturnedAfterExpiry { voucher_id, contract_id, jurisdiction, fiscal_year, returned } =
            event
        else {
            return None;
        };
        Some(v1::ReturnedAfterExpiry {
            voucher_id: uuid_to_bytes(*voucher_id),
            contract_id: uuid_to_bytes(*contract_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            returned: returned.to_string(),
        })
    }
}

impl TryFrom<v1::ReturnedAfterExpiry> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ReturnedAfterExpiry) -> Result<Self, CodecError> {
        Ok(Event::ReturnedAfterExpiry {
            voucher_id: uuid("ReturnedAfterExpiry.voucher_id", &message.voucher_id)?,
            contract_id: uuid("ReturnedAfterExpiry.contract_id", &message.contract_id)?,
            jurisdiction: parse("ReturnedAfterExpiry.jurisdiction", &message.jurisdiction)?,
            fiscal_year: message.fiscal_year,
            returned: parse("ReturnedAfterExpiry.returned", &message.returned)?,
        })
    }
}
