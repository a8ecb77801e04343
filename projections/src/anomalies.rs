//! Anomalies: fraud and error signals for the bureau and auditors, each naming the records behind it.
//!
//! Signals are hints, not verdicts: they change no money and record nothing; a person looks at the named
//! records and decides. The kinds (stable names, see [`Kind`]):
//! - `document_reused`: the same document hash appears in two different contracts or their redemptions
//!   (a contract document, an invoice, a remittance proof or a result report).
//! - `shared_legal_person`: a contract's provider and applicant registered under the same name (after
//!   trimming, case-folding and removing white space) though under different credit codes. (The same credit
//!   code on both sides is refused by the domain, `same_legal_person`.)
//! - `shared_contact`: a contract's applicant also applied as a provider giving the same contact as the
//!   contract's provider. The ledger keeps a contact only for providers (a registration has none), so this is
//!   the only way an applicant's contact is known.
//! - `identical_amounts`: one provider submitted [`IDENTICAL_AMOUNTS_MIN`] or more contracts of the same total.
//! - `completed_too_soon`: a service confirmed complete fewer than [`COMPLETION_DAYS_MIN`] days after its
//!   contract was filed.
//! - `dominant_provider`: an applicant with at least [`CONCENTRATION_CONTRACTS_MIN`] filed contracts, one
//!   provider holding more than half of their voucher money.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use domain::document::Sha256Hex;
use domain::{Balance, Cny, CreditCode, Event, Jurisdiction};
use ledger_proto::Recorded;
use serde::Serialize;
use uuid::Uuid;

use crate::ReadModel;

/// Contracts of one provider with the same total from which `identical_amounts` fires.
pub const IDENTICAL_AMOUNTS_MIN: usize = 3;
/// A completion this many days or more after filing is plausible.
pub const COMPLETION_DAYS_MIN: i64 = 2;
/// Filed contracts an applicant needs before `dominant_provider` looks at it.
pub const CONCENTRATION_CONTRACTS_MIN: usize = 3;

/// The kind of a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DocumentReused,
    SharedLegalPerson,
    SharedContact,
    IdenticalAmounts,
    CompletedTooSoon,
    DominantProvider,
}

impl Kind {
    /// Every kind (the console labels each one).
    pub const ALL: [Kind; 6] = [
        Kind::DocumentReused,
        Kind::SharedLegalPerson,
        Kind::SharedContact,
        Kind::IdenticalAmounts,
        Kind::CompletedTooSoon,
        Kind::DominantProvider,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DocumentReused => "document_reused",
            Kind::SharedLegalPerson => "shared_legal_person",
            Kind::SharedContact => "shared_contact",
            Kind::IdenticalAmounts => "identical_amounts",
            Kind::CompletedTooSoon => "completed_too_soon",
            Kind::DominantProvider => "dominant_provider",
        }
    }
}

/// One signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Signal {
    pub kind: Kind,
    /// What the signal is about: a document hash, a contract id, a provider, an applicant.
    pub subject: String,
    /// The jurisdictions of the contracts involved.
    pub jurisdictions: Vec<Jurisdiction>,
    /// A sentence for the reader.
    pub detail: String,
    /// The log positions of the records behind the signal, ascending.
    pub records: Vec<u64>,
}

/// A document's use by a contract (directly, or through the contract's redemption).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct DocumentUse {
    contract_id: Uuid,
    position: u64,
}

/// A document's uses: almost always one, kept inline; a vector only once it is reused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Uses {
    One(DocumentUse),
    Many(Vec<DocumentUse>),
}

impl Uses {
    fn push(&mut self, next: DocumentUse) {
        match self {
            Uses::One(first) => *self = Uses::Many(vec![first.clone(), next]),
            Uses::Many(all) => all.push(next),
        }
    }

    fn as_slice(&self) -> &[DocumentUse] {
        match self {
            Uses::One(one) => std::slice::from_ref(one),
            Uses::Many(all) => all,
        }
    }
}

/// What the signals need to know of a contract.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ContractFacts {
    provider: CreditCode,
    applicant: CreditCode,
    jurisdiction: Jurisdiction,
    total: Cny,
    voucher_amount: Cny,
    submitted_at: u64,
    filed: Option<(NaiveDate, u64)>,
    completed: Option<(NaiveDate, u64)>,
}

/// A registration as the signals need it: the normalized name and where it was recorded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Party {
    name: String,
    contact: Option<String>,
    position: u64,
}

/// The contracts of one provider with one total (`identical_amounts`): how many, and the first one's
/// submission. Which they are is read from the provider's contracts when the signal is read.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct AmountGroup {
    count: u32,
    first: u64,
}

/// One provider's part of an applicant's filed contracts: its voucher money and the filings' positions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Share {
    provider: CreditCode,
    amount: Balance,
    positions: Vec<u64>,
}

/// An applicant's filed contracts (`dominant_provider`): how many, their voucher money, their jurisdictions,
/// and each provider's share (ordered by provider: a few providers each, so a sorted vector rather than a
/// tree, whose every node holds room for eleven).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Filings {
    count: usize,
    total: Balance,
    jurisdictions: Vec<Jurisdiction>,
    by_provider: Vec<Share>,
}

/// Which signal of its kind a signal is: its subject, as the model keys it. Ordered as the subject's text
/// (a digest's bytes, a contract id's, a credit code's), so that signals sort as they read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
enum Key {
    Document(Sha256Hex),
    Contract(Uuid),
    /// `identical_amounts`: one provider may have several groups, one per total.
    Amounts(CreditCode, Cny),
    Applicant(CreditCode),
}

/// A signal that fires, not built yet ([`Anomalies::fired`]).
#[derive(Clone, Copy, Debug)]
pub struct Fired<'a> {
    model: &'a Anomalies,
    kind: Kind,
    key: &'a Key,
}

impl Fired<'_> {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The signal, built now from the model it fires in.
    pub fn signal(&self) -> Option<Signal> {
        self.model.render(self.kind, self.key)
    }
}

/// Where a signal sits in [`Anomalies::signals`]' order: its first record, its kind, then its subject.
type Slot = (u64, Kind, Key);

/// The anomalies read model. Which signals fire is kept up to date as the events arrive: each event checks
/// only the signals it can change (a document's, a contract's, one provider's total, one applicant's
/// filings) and keeps a fired signal's place (its first record) without building it. A signal is built
/// (its subject, text and records) only when it is read, so the fold allocates nothing for a signal and a
/// growing group is never copied; reading them is a walk over the ones that fire, whatever the size of the
/// ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anomalies {
    documents: HashMap<Sha256Hex, Uses>,
    /// Boxed: a hash table keeps a third of its slots empty on average.
    contracts: HashMap<Uuid, Box<ContractFacts>>,
    applicants: HashMap<CreditCode, Party>,
    providers: HashMap<CreditCode, Party>,
    /// The contracts each party is on (as provider or applicant), for a registration that comes after them.
    contracts_of: HashMap<CreditCode, Vec<Uuid>>,
    amounts: HashMap<(CreditCode, Cny), AmountGroup>,
    filings: HashMap<CreditCode, Filings>,
    /// The signals that fire, in their order.
    fired: BTreeSet<Slot>,
    /// The first record of each fired signal, by kind and subject.
    slots: HashMap<(Kind, Key), u64>,
}

/// A name as compared: trimmed, lowercase, without white space.
fn normalized(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

fn sorted(mut positions: Vec<u64>) -> Vec<u64> {
    positions.sort_unstable();
    positions.dedup();
    positions
}

fn jurisdictions(list: impl IntoIterator<Item = Jurisdiction>) -> Vec<Jurisdiction> {
    let mut list: Vec<Jurisdiction> = list.into_iter().collect();
    list.sort();
    list.dedup();
    list
}

/// Adds `jurisdiction` to a sorted list without repeats.
fn include(list: &mut Vec<Jurisdiction>, jurisdiction: Jurisdiction) {
    if let Err(at) = list.binary_search(&jurisdiction) {
        list.insert(at, jurisdiction);
    }
}

/// A filing or completion: its date and log position.
type Dated = (NaiveDate, u64);

impl Anomalies {
    /// Every signal, ordered by the first record behind it (then kind and subject).
    pub fn signals(&self) -> Vec<Signal> {
        self.fired().filter_map(|fired| fired.signal()).collect()
    }

    /// The signals that fire, in the order of [`Anomalies::signals`], each built only when asked (a page
    /// of a list builds the signals it shows).
    pub fn fired(&self) -> impl Iterator<Item = Fired<'_>> {
        self.fired.iter().map(|(_, kind, key)| Fired { model: self, kind: *kind, key })
    }

    /// How many signals fire.
    pub fn count(&self) -> usize {
        self.fired.len()
    }

    // ---- the rules: when each kind fires (one function each; the fold and the reader both ask them) ----

    /// `document_reused`: the document's uses and the distinct contracts among them, when two or more.
    fn reused(&self, sha256: &Sha256Hex) -> Option<(&[DocumentUse], Vec<Uuid>)> {
        let uses = self.documents.get(sha256)?.as_slice();
        if uses.len() < 2 {
            return None;
        }
        let mut contracts: Vec<Uuid> = uses.iter().map(|u| u.contract_id).collect();
        contracts.sort();
        contracts.dedup();
        (contracts.len() >= 2).then_some((uses, contracts))
    }

    /// A contract with both of its parties registered: the contract, its provider and its applicant.
    fn parties(&self, contract_id: &Uuid) -> Option<(&ContractFacts, &Party, &Party)> {
        let contract = self.contracts.get(contract_id)?;
        Some((contract, self.providers.get(&contract.provider)?, self.applicants.get(&contract.applicant)?))
    }

    /// `shared_legal_person`: the contract's provider and applicant registered one name.
    fn same_name(&self, contract_id: &Uuid) -> Option<(&ContractFacts, &Party, &Party)> {
        let (contract, provider, applicant) = self.parties(contract_id)?;
        (!provider.name.is_empty() && provider.name == applicant.name).then_some((contract, provider, applicant))
    }

    /// `shared_contact`: the contract's applicant applied as a provider with its provider's contact; the
    /// contract, its provider and the applicant's application.
    fn same_contact(&self, contract_id: &Uuid) -> Option<(&ContractFacts, &Party, &Party)> {
        let (contract, provider, _) = self.parties(contract_id)?;
        let other = self.providers.get(&contract.applicant)?;
        let contact = provider.contact.as_ref().filter(|contact| !contact.is_empty())?;
        (other.contact.as_ref() == Some(contact)).then_some((contract, provider, other))
    }

    /// `identical_amounts`: the provider's contracts of this total, when there are enough of them.
    fn identical(&self, provider: &CreditCode, total: Cny) -> Option<&AmountGroup> {
        self.amounts
            .get(&(provider.clone(), total))
            .filter(|group| group.count as usize >= IDENTICAL_AMOUNTS_MIN)
    }

    /// The contracts `provider` submitted with this total.
    fn submitted_by<'a>(&'a self, provider: &'a CreditCode, total: Cny) -> impl Iterator<Item = &'a ContractFacts> {
        let ids = self.contracts_of.get(provider).map(Vec::as_slice).unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        ids.iter()
            .filter(move |id| seen.insert(**id))
            .filter_map(|id| self.contracts.get(id).map(Box::as_ref))
            .filter(move |contract| contract.provider == *provider && contract.total == total)
    }

    /// `completed_too_soon`: the contract, its filing, its completion and the days between them.
    fn too_soon(&self, contract_id: &Uuid) -> Option<(&ContractFacts, Dated, Dated, i64)> {
        let contract = self.contracts.get(contract_id)?;
        let (filed, completed) = (contract.filed?, contract.completed?);
        let days = (completed.0 - filed.0).num_days();
        (days < COMPLETION_DAYS_MIN).then_some((contract, filed, completed, days))
    }

    /// `dominant_provider`: the applicant's filings and the provider holding more than half of their voucher
    /// money (at most one can), with its money and filings' positions.
    #[allow(clippy::type_complexity)]
    fn dominant(&self, applicant: &CreditCode) -> Option<(&Filings, &Share)> {
        let filings = self.filings.get(applicant).filter(|f| f.count >= CONCENTRATION_CONTRACTS_MIN)?;
        // More than half: twice the provider's money exceeds the applicant's total.
        let share = filings.by_provider.iter().find(|share| share.amount.checked_add(share.amount) > filings.total)?;
        Some((filings, share))
    }

    /// The first record of the signal of `kind` about `key`, when it fires.
    fn first_record(&self, kind: Kind, key: &Key) -> Option<u64> {
        let first = |positions: &mut dyn Iterator<Item = u64>| positions.min().unwrap_or_default();
        match (kind, key) {
            (Kind::DocumentReused, Key::Document(sha256)) => {
                self.reused(sha256).map(|(uses, _)| first(&mut uses.iter().map(|u| u.position)))
            }
            (Kind::SharedLegalPerson, Key::Contract(id)) => self
                .same_name(id)
                .map(|(contract, provider, applicant)| {
                    provider.position.min(applicant.position).min(contract.submitted_at)
                }),
            (Kind::SharedContact, Key::Contract(id)) => self
                .same_contact(id)
                .map(|(contract, provider, other)| provider.position.min(other.position).min(contract.submitted_at)),
            (Kind::IdenticalAmounts, Key::Amounts(provider, total)) => {
                self.identical(provider, *total).map(|group| group.first)
            }
            (Kind::CompletedTooSoon, Key::Contract(id)) => {
                self.too_soon(id).map(|(_, (_, filed_at), (_, completed_at), _)| filed_at.min(completed_at))
            }
            (Kind::DominantProvider, Key::Applicant(applicant)) => {
                self.dominant(applicant).map(|(_, share)| first(&mut share.positions.iter().copied()))
            }
            _ => None,
        }
    }

    /// The signal of `kind` about `key` as the model stands, when it fires.
    fn render(&self, kind: Kind, key: &Key) -> Option<Signal> {
        match (kind, key) {
            (Kind::DocumentReused, Key::Document(sha256)) => {
                let (uses, contracts) = self.reused(sha256)?;
                Some(Signal {
                    kind,
                    subject: sha256.to_string(),
                    jurisdictions: jurisdictions(
                        contracts.iter().filter_map(|id| self.contracts.get(id)).map(|c| c.jurisdiction),
                    ),
                    detail: format!("document {sha256} is used by {} different contracts", contracts.len()),
                    records: sorted(uses.iter().map(|u| u.position).collect()),
                })
            }
            (Kind::SharedLegalPerson, Key::Contract(contract_id)) => {
                let (contract, provider, applicant) = self.same_name(contract_id)?;
                Some(Signal {
                    kind,
                    subject: contract_id.to_string(),
                    jurisdictions: vec![contract.jurisdiction],
                    detail: format!(
                        "provider {} and applicant {} of contract {contract_id} registered the same name",
                        contract.provider, contract.applicant
                    ),
                    records: sorted(vec![provider.position, applicant.position, contract.submitted_at]),
                })
            }
            (Kind::SharedContact, Key::Contract(contract_id)) => {
                let (contract, provider, other) = self.same_contact(contract_id)?;
                Some(Signal {
                    kind,
                    subject: contract_id.to_string(),
                    jurisdictions: vec![contract.jurisdiction],
                    detail: format!(
                        "provider {} and applicant {} of contract {contract_id} gave the same contact",
                        contract.provider, contract.applicant
                    ),
                    records: sorted(vec![provider.position, other.position, contract.submitted_at]),
                })
            }
            (Kind::IdenticalAmounts, Key::Amounts(provider, total)) => {
                let group = self.identical(provider, *total)?;
                let contracts: Vec<&ContractFacts> = self.submitted_by(provider, *total).collect();
                Some(Signal {
                    kind,
                    subject: provider.to_string(),
                    jurisdictions: jurisdictions(contracts.iter().map(|c| c.jurisdiction)),
                    detail: format!("provider {provider} submitted {} contracts of {total} each", group.count),
                    records: sorted(contracts.iter().map(|c| c.submitted_at).collect()),
                })
            }
            (Kind::CompletedTooSoon, Key::Contract(contract_id)) => {
                let (contract, (filed_on, filed_at), (_, completed_at), days) = self.too_soon(contract_id)?;
                Some(Signal {
                    kind,
                    subject: contract_id.to_string(),
                    jurisdictions: vec![contract.jurisdiction],
                    detail: format!(
                        "contract {contract_id} was filed on {filed_on} and confirmed complete {days} day(s) later"
                    ),
                    records: sorted(vec![filed_at, completed_at]),
                })
            }
            (Kind::DominantProvider, Key::Applicant(applicant)) => {
                let (filings, Share { provider, amount, positions }) = self.dominant(applicant)?;
                Some(Signal {
                    kind,
                    subject: applicant.to_string(),
                    jurisdictions: filings.jurisdictions.clone(),
                    detail: format!(
                        "provider {provider} holds {amount} of the {} voucher money in applicant \
                         {applicant}'s {} filed contracts",
                        filings.total, filings.count
                    ),
                    records: sorted(positions.clone()),
                })
            }
            _ => None,
        }
    }

    /// Brings the signal of `kind` about `key` up to date: in its place if it fires, gone if not.
    fn refresh(&mut self, kind: Kind, key: Key) {
        let first = self.first_record(kind, &key);
        let slot = (kind, key);
        let before = self.slots.get(&slot).copied();
        if before == first {
            return;
        }
        let (kind, key) = slot;
        if let Some(before) = before {
            self.slots.remove(&(kind, key.clone()));
            self.fired.remove(&(before, kind, key.clone()));
        }
        if let Some(first) = first {
            self.slots.insert((kind, key.clone()), first);
            self.fired.insert((first, kind, key));
        }
    }

    /// The party signals of a contract.
    fn party_signals(&mut self, contract_id: Uuid) {
        self.refresh(Kind::SharedLegalPerson, Key::Contract(contract_id));
        self.refresh(Kind::SharedContact, Key::Contract(contract_id));
    }

    /// A registration or application of `party` changes the party signals of the contracts it is on.
    fn party_changed(&mut self, party: &CreditCode) {
        let contracts = self.contracts_of.get(party).cloned().unwrap_or_default();
        for contract_id in contracts {
            self.party_signals(contract_id);
        }
    }

    fn uses(&mut self, sha256: &Sha256Hex, contract_id: Uuid, position: u64) {
        let first = DocumentUse { contract_id, position };
        match self.documents.entry(sha256.clone()) {
            std::collections::hash_map::Entry::Occupied(mut uses) => uses.get_mut().push(first),
            std::collections::hash_map::Entry::Vacant(none) => {
                none.insert(Uses::One(first));
            }
        }
        self.refresh(Kind::DocumentReused, Key::Document(sha256.clone()));
    }
}

impl ReadModel for Anomalies {
    fn name(&self) -> &'static str {
        "anomalies"
    }

    fn apply(&mut self, record: &Recorded) {
        let position = record.position;
        match &record.event {
            Event::ApplicantRegistered { registration } => {
                self.applicants.insert(
                    registration.credit_code.clone(),
                    Party { name: normalized(&registration.name), contact: None, position },
                );
                self.party_changed(&registration.credit_code);
            }
            Event::ProviderApplied { application } => {
                self.providers.insert(
                    application.provider.clone(),
                    Party {
                        name: normalized(&application.name),
                        contact: Some(normalized(&application.contact)),
                        position,
                    },
                );
                self.party_changed(&application.provider);
            }
            Event::ContractSubmitted { contract_id, terms, .. } => {
                self.contracts.insert(
                    *contract_id,
                    Box::new(ContractFacts {
                        provider: terms.provider.clone(),
                        applicant: terms.applicant.clone(),
                        jurisdiction: terms.jurisdiction,
                        total: terms.total,
                        voucher_amount: terms.voucher_amount,
                        submitted_at: position,
                        filed: None,
                        completed: None,
                    }),
                );
                for party in [&terms.provider, &terms.applicant] {
                    self.contracts_of.entry(party.clone()).or_default().push(*contract_id);
                }
                self.uses(&terms.document_sha256, *contract_id, position);
                self.party_signals(*contract_id);
                let group = self.amounts.entry((terms.provider.clone(), terms.total)).or_default();
                if group.count == 0 {
                    group.first = position;
                }
                group.count += 1;
                self.refresh(Kind::IdenticalAmounts, Key::Amounts(terms.provider.clone(), terms.total));
            }
            Event::ContractFiled { contract_id, filed_on, .. } => {
                let Some(contract) = self.contracts.get_mut(contract_id) else { return };
                let before = contract.filed.replace((*filed_on, position)).map(|(_, at)| at);
                let (applicant, provider) = (contract.applicant.clone(), contract.provider.clone());
                let (jurisdiction, amount) = (contract.jurisdiction, contract.voucher_amount);
                let filings = self.filings.entry(applicant.clone()).or_default();
                let at = match filings.by_provider.binary_search_by(|share| share.provider.cmp(&provider)) {
                    Ok(at) => at,
                    Err(at) => {
                        let share = Share { provider, amount: Balance::ZERO, positions: Vec::new() };
                        filings.by_provider.insert(at, share);
                        at
                    }
                };
                let share = &mut filings.by_provider[at];
                match before {
                    // Filed again (the domain refuses it; a log is read as it is): the later filing counts.
                    Some(at) => share.positions.iter_mut().filter(|p| **p == at).for_each(|p| *p = position),
                    None => {
                        share.amount = share.amount.add(amount);
                        share.positions.push(position);
                        filings.count += 1;
                        filings.total = filings.total.add(amount);
                        include(&mut filings.jurisdictions, jurisdiction);
                    }
                }
                self.refresh(Kind::DominantProvider, Key::Applicant(applicant));
                self.refresh(Kind::CompletedTooSoon, Key::Contract(*contract_id));
            }
            Event::ServiceCompleted { contract_id, completed_on, .. } => {
                if let Some(contract) = self.contracts.get_mut(contract_id) {
                    contract.completed = Some((*completed_on, position));
                    self.refresh(Kind::CompletedTooSoon, Key::Contract(*contract_id));
                }
            }
            Event::RedemptionRequested { contract_id, invoice, remittance_proof, results, .. } => {
                for document in
                    std::iter::once(invoice).chain(std::iter::once(remittance_proof)).chain(results)
                {
                    self.uses(&document.sha256, *contract_id, position);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;
    use domain::document::{Document, Sha256Hex};
    use domain::event::{ContractTerms, Party as ContractParty, ProviderApplication, Registration};
    use domain::{Actor, ApplicantKind, Role};
    use ledger_proto::RecordMeta;

    use proptest::prelude::*;

    use super::*;

    const GY: Jurisdiction = Jurisdiction::Guiyang;

    fn code(n: u32) -> CreditCode {
        domain::credit_code::with_check_character(&format!("915201{n:011}")).expect("valid code")
    }

    fn digest(n: u8) -> Sha256Hex {
        Sha256Hex::parse(&format!("{n:02x}").repeat(32)).expect("digest")
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    fn cny(text: &str) -> Cny {
        Cny::parse(text).expect("amount")
    }

    /// Folds events recorded at positions 1, 2, ...
    fn fold(events: Vec<Event>) -> Anomalies {
        let mut model = Anomalies::default();
        for (index, event) in events.into_iter().enumerate() {
            let position = index as u64 + 1;
            let meta = RecordMeta {
                id: Uuid::from_u128(u128::from(position)),
                stream: event.stream(),
                stream_version: 1,
                recorded_at: chrono::Utc.with_ymd_and_hms(2025, 4, 1, 1, 0, 0).single().expect("instant"),
                business_date: day("2025-04-01"),
                actor: Actor {
                    subject: "s".into(),
                    role: Role::Bureau,
                    jurisdiction: Some(GY),
                    credit_code: None,
                },
                correlation_id: Uuid::nil(),
                causation_id: Uuid::nil(),
                idempotency_key: None,
                request_digest: None,
            };
            let recorded =
                Recorded { position, hash: [0; 32], prev_hash: [0; 32], meta, event, ends_command: true };
            model.apply(&recorded);
        }
        model
    }

    fn applicant(n: u32, name: &str) -> Event {
        Event::ApplicantRegistered {
            registration: Registration {
                credit_code: code(n),
                name: name.into(),
                kind: ApplicantKind::Enterprise,
                jurisdiction: GY,
                industry: Some("aluminum".into()),
                project_code: None,
                independent_legal_person: true,
                tax_compliant: true,
            },
        }
    }

    fn provider(n: u32, name: &str, contact: &str) -> Event {
        Event::ProviderApplied {
            application: ProviderApplication {
                provider: code(n),
                name: name.into(),
                jurisdiction: GY,
                categories: ["inspection_testing".to_owned()].into_iter().collect(),
                qualifications: Vec::new(),
                contact: contact.into(),
            },
        }
    }

    fn contract(id: u128, provider: u32, applicant: u32, total: &str, document: u8) -> Event {
        Event::ContractSubmitted {
            contract_id: Uuid::from_u128(id),
            terms: ContractTerms {
                voucher_id: Uuid::from_u128(1000 + id),
                jurisdiction: GY,
                provider: code(provider),
                applicant: code(applicant),
                category: "inspection_testing".into(),
                description: "d".into(),
                term_start: day("2025-04-01"),
                term_end: day("2025-06-30"),
                total: cny(total),
                voucher_amount: cny("10000.00"),
                document_sha256: digest(document),
            },
            submitted_by: ContractParty::Provider,
        }
    }

    fn filed(id: u128, on: &str) -> Event {
        Event::ContractFiled {
            contract_id: Uuid::from_u128(id),
            voucher_id: Uuid::from_u128(1000 + id),
            jurisdiction: GY,
            amount: cny("10000.00"),
            filed_on: day(on),
        }
    }

    fn completed(id: u128, provider: u32, on: &str) -> Event {
        Event::ServiceCompleted {
            contract_id: Uuid::from_u128(id),
            voucher_id: Uuid::from_u128(1000 + id),
            jurisdiction: GY,
            provider: code(provider),
            amount: cny("10000.00"),
            completed_on: day(on),
            redemption_deadline: day("2025-12-31"),
        }
    }

    fn redemption(id: u128, contract: u128, invoice: u8) -> Event {
        let document = |n: u8| Document { sha256: digest(n), name: format!("d{n}"), size_bytes: 1 };
        Event::RedemptionRequested {
            redemption_id: Uuid::from_u128(id),
            contract_id: Uuid::from_u128(contract),
            jurisdiction: GY,
            provider: code(500),
            amount: cny("10000.00"),
            invoice: document(invoice),
            remittance_proof: document(invoice + 1),
            results: vec![document(invoice + 2)],
        }
    }

    fn kinds(model: &Anomalies) -> Vec<Kind> {
        model.signals().iter().map(|signal| signal.kind).collect()
    }

    #[test]
    fn a_document_used_by_two_contracts_is_signalled_with_both_records() {
        let model = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            contract(2, 501, 2, "30000.00", 2),
            redemption(9, 1, 10),
            // The invoice of contract 1's redemption shows up again as contract 2's redemption's invoice.
            redemption(10, 2, 10),
        ]);
        let signals = model.signals();
        assert_eq!(kinds(&model), vec![Kind::DocumentReused, Kind::DocumentReused, Kind::DocumentReused]);
        let invoice = signals.iter().find(|s| s.subject == digest(10).to_string()).expect("invoice signal");
        assert_eq!(invoice.records, vec![3, 4]);
        assert_eq!(invoice.jurisdictions, vec![GY]);
    }

    #[test]
    fn documents_used_once_each_are_silent() {
        let model = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            contract(2, 501, 2, "30000.00", 2),
            redemption(9, 1, 10),
            redemption(10, 2, 20),
        ]);
        assert_eq!(kinds(&model), vec![]);
    }

    #[test]
    fn provider_and_applicant_of_one_name_are_signalled_and_different_names_are_not() {
        let model = fold(vec![
            applicant(1, "Guiyang Bright Tech Co., Ltd."),
            provider(500, "guiyang bright tech co., ltd. ", "0851-1"),
            contract(1, 500, 1, "20000.00", 1),
        ]);
        let signals = model.signals();
        assert_eq!(kinds(&model), vec![Kind::SharedLegalPerson]);
        assert_eq!(signals[0].records, vec![1, 2, 3]);

        let honest = fold(vec![
            applicant(1, "Guiyang Bright Tech Co., Ltd."),
            provider(500, "Guizhou Testing Institute", "0851-1"),
            contract(1, 500, 1, "20000.00", 1),
        ]);
        assert_eq!(kinds(&honest), vec![]);
    }

    #[test]
    fn an_applicant_that_applied_as_a_provider_with_the_same_contact_is_signalled() {
        let model = fold(vec![
            applicant(1, "applicant"),
            provider(1, "applicant services", "0851-8888"),
            provider(500, "lab", " 0851-8888"),
            contract(1, 500, 1, "20000.00", 1),
        ]);
        let signals = model.signals();
        assert_eq!(kinds(&model), vec![Kind::SharedContact]);
        assert_eq!(signals[0].records, vec![2, 3, 4]);

        let honest = fold(vec![
            applicant(1, "applicant"),
            provider(1, "applicant services", "0851-7777"),
            provider(500, "lab", "0851-8888"),
            contract(1, 500, 1, "20000.00", 1),
        ]);
        assert_eq!(kinds(&honest), vec![]);
    }

    #[test]
    fn three_contracts_of_one_total_from_one_provider_are_signalled_and_varied_totals_are_not() {
        let model = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            contract(2, 500, 2, "20000.00", 2),
            contract(3, 500, 3, "20000.00", 3),
        ]);
        let signals = model.signals();
        assert_eq!(kinds(&model), vec![Kind::IdenticalAmounts]);
        assert_eq!(signals[0].records, vec![1, 2, 3]);
        assert_eq!(signals[0].subject, code(500).as_str());

        let honest = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            contract(2, 500, 2, "20000.00", 2),
            contract(3, 500, 3, "21500.00", 3),
            // The same total from another provider is no pattern of the first.
            contract(4, 501, 4, "20000.00", 4),
        ]);
        assert_eq!(kinds(&honest), vec![]);
    }

    #[test]
    fn a_completion_the_day_after_filing_is_signalled_and_one_a_month_later_is_not() {
        let model = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            filed(1, "2025-04-01"),
            completed(1, 500, "2025-04-02"),
        ]);
        let signals = model.signals();
        assert_eq!(kinds(&model), vec![Kind::CompletedTooSoon]);
        assert_eq!(signals[0].records, vec![2, 3]);

        let honest = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            filed(1, "2025-04-01"),
            completed(1, 500, "2025-05-02"),
        ]);
        assert_eq!(kinds(&honest), vec![]);
    }

    #[test]
    fn one_provider_with_most_of_an_applicants_filed_contracts_is_signalled_and_a_spread_is_not() {
        let model = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            contract(2, 500, 1, "30000.00", 2),
            contract(3, 501, 1, "40000.00", 3),
            filed(1, "2025-04-01"),
            filed(2, "2025-04-01"),
            filed(3, "2025-04-01"),
        ]);
        let signals = model.signals();
        assert_eq!(kinds(&model), vec![Kind::DominantProvider]);
        assert_eq!(signals[0].records, vec![4, 5]);
        assert_eq!(signals[0].subject, code(1).as_str());

        let honest = fold(vec![
            contract(1, 500, 1, "20000.00", 1),
            contract(2, 501, 1, "30000.00", 2),
            contract(3, 502, 1, "40000.00", 3),
            filed(1, "2025-04-01"),
            filed(2, "2025-04-01"),
            filed(3, "2025-04-01"),
        ]);
        assert_eq!(kinds(&honest), vec![]);
    }

    // ---- the oracle: every signal recomputed from the facts, as the model computed them on every read
    // before it kept them up to date ----

    /// Every signal recomputed from scratch over the model's facts, in the order of [`Anomalies::signals`].
    fn recomputed(model: &Anomalies) -> Vec<Signal> {
        let mut signals = Vec::new();
        document_signals(model, &mut signals);
        party_signals(model, &mut signals);
        amount_signals(model, &mut signals);
        completion_signals(model, &mut signals);
        concentration_signals(model, &mut signals);
        signals.sort_by(|a, b| {
            (a.records.first(), a.kind, &a.subject).cmp(&(b.records.first(), b.kind, &b.subject))
        });
        signals
    }

    fn document_signals(model: &Anomalies, signals: &mut Vec<Signal>) {
        for (sha256, uses) in &model.documents {
            let uses = uses.as_slice();
            let mut contracts: Vec<Uuid> = uses.iter().map(|u| u.contract_id).collect();
            contracts.sort();
            contracts.dedup();
            if contracts.len() < 2 {
                continue;
            }
            signals.push(Signal {
                kind: Kind::DocumentReused,
                subject: sha256.to_string(),
                jurisdictions: jurisdictions(
                    contracts.iter().filter_map(|id| model.contracts.get(id)).map(|c| c.jurisdiction),
                ),
                detail: format!("document {sha256} is used by {} different contracts", contracts.len()),
                records: sorted(uses.iter().map(|u| u.position).collect()),
            });
        }
    }

    fn party_signals(model: &Anomalies, signals: &mut Vec<Signal>) {
        for (contract_id, contract) in &model.contracts {
            let (Some(provider), Some(applicant)) =
                (model.providers.get(&contract.provider), model.applicants.get(&contract.applicant))
            else {
                continue;
            };
            if !provider.name.is_empty() && provider.name == applicant.name {
                signals.push(Signal {
                    kind: Kind::SharedLegalPerson,
                    subject: contract_id.to_string(),
                    jurisdictions: vec![contract.jurisdiction],
                    detail: format!(
                        "provider {} and applicant {} of contract {contract_id} registered the same name",
                        contract.provider, contract.applicant
                    ),
                    records: sorted(vec![provider.position, applicant.position, contract.submitted_at]),
                });
            }
            let applicant_as_provider = model.providers.get(&contract.applicant);
            if let (Some(contact), Some(other)) = (&provider.contact, applicant_as_provider)
                && !contact.is_empty()
                && other.contact.as_ref() == Some(contact)
            {
                signals.push(Signal {
                    kind: Kind::SharedContact,
                    subject: contract_id.to_string(),
                    jurisdictions: vec![contract.jurisdiction],
                    detail: format!(
                        "provider {} and applicant {} of contract {contract_id} gave the same contact",
                        contract.provider, contract.applicant
                    ),
                    records: sorted(vec![provider.position, other.position, contract.submitted_at]),
                });
            }
        }
    }

    fn amount_signals(model: &Anomalies, signals: &mut Vec<Signal>) {
        let mut groups: BTreeMap<(&str, Cny), Vec<&ContractFacts>> = BTreeMap::new();
        for contract in model.contracts.values().map(Box::as_ref) {
            groups.entry((contract.provider.as_str(), contract.total)).or_default().push(contract);
        }
        for ((provider, total), contracts) in groups {
            if contracts.len() < IDENTICAL_AMOUNTS_MIN {
                continue;
            }
            signals.push(Signal {
                kind: Kind::IdenticalAmounts,
                subject: provider.to_owned(),
                jurisdictions: jurisdictions(contracts.iter().map(|c| c.jurisdiction)),
                detail: format!(
                    "provider {provider} submitted {} contracts of {total} each",
                    contracts.len()
                ),
                records: sorted(contracts.iter().map(|c| c.submitted_at).collect()),
            });
        }
    }

    fn completion_signals(model: &Anomalies, signals: &mut Vec<Signal>) {
        for (contract_id, contract) in &model.contracts {
            let (Some((filed_on, filed_at)), Some((completed_on, completed_at))) =
                (contract.filed, contract.completed)
            else {
                continue;
            };
            let days = (completed_on - filed_on).num_days();
            if days >= COMPLETION_DAYS_MIN {
                continue;
            }
            signals.push(Signal {
                kind: Kind::CompletedTooSoon,
                subject: contract_id.to_string(),
                jurisdictions: vec![contract.jurisdiction],
                detail: format!(
                    "contract {contract_id} was filed on {filed_on} and confirmed complete {days} day(s) later"
                ),
                records: sorted(vec![filed_at, completed_at]),
            });
        }
    }

    fn concentration_signals(model: &Anomalies, signals: &mut Vec<Signal>) {
        let mut by_applicant: BTreeMap<&str, Vec<&ContractFacts>> = BTreeMap::new();
        for contract in model.contracts.values().map(Box::as_ref).filter(|c| c.filed.is_some()) {
            by_applicant.entry(contract.applicant.as_str()).or_default().push(contract);
        }
        for (applicant, contracts) in by_applicant {
            if contracts.len() < CONCENTRATION_CONTRACTS_MIN {
                continue;
            }
            let total = contracts.iter().fold(Balance::ZERO, |sum, c| sum.add(c.voucher_amount));
            let mut by_provider: BTreeMap<&str, (Balance, Vec<u64>)> = BTreeMap::new();
            for contract in &contracts {
                let entry =
                    by_provider.entry(contract.provider.as_str()).or_insert((Balance::ZERO, Vec::new()));
                entry.0 = entry.0.add(contract.voucher_amount);
                entry.1.extend(contract.filed.map(|(_, position)| position));
            }
            for (provider, (amount, positions)) in by_provider {
                // More than half: twice the provider's money exceeds the applicant's total.
                if amount.checked_add(amount) <= total {
                    continue;
                }
                signals.push(Signal {
                    kind: Kind::DominantProvider,
                    subject: applicant.to_owned(),
                    jurisdictions: jurisdictions(contracts.iter().map(|c| c.jurisdiction)),
                    detail: format!(
                        "provider {provider} holds {amount} of the {total} voucher money in applicant \
                         {applicant}'s {} filed contracts",
                        contracts.len()
                    ),
                    records: sorted(positions),
                });
            }
        }
    }


    /// One step of a random history over a few parties, totals, documents and dates, so that every kind of
    /// signal fires and stops firing.
    #[derive(Clone, Debug)]
    enum Step {
        Applicant { n: u32, name: u8 },
        Provider { n: u32, name: u8, contact: u8 },
        Contract { provider: u32, applicant: u32, total: u8, amount: u8, document: u8, guian: bool },
        Filed { contract: usize, day: u8 },
        Completed { contract: usize, day: u8 },
        Redemption { contract: usize, document: u8 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            1 => (1u32..5, 0u8..3).prop_map(|(n, name)| Step::Applicant { n, name }),
            1 => (1u32..5, 0u8..3, 0u8..3).prop_map(|(n, name, contact)| Step::Provider { n, name, contact }),
            3 => (1u32..5, 1u32..5, 0u8..2, 0u8..3, 0u8..6, any::<bool>()).prop_map(
                |(provider, applicant, total, amount, document, guian)| Step::Contract {
                    provider, applicant, total, amount, document, guian
                }
            ),
            2 => (0usize..40, 0u8..4).prop_map(|(contract, day)| Step::Filed { contract, day }),
            2 => (0usize..40, 0u8..4).prop_map(|(contract, day)| Step::Completed { contract, day }),
            1 => (0usize..40, 0u8..6).prop_map(|(contract, document)| Step::Redemption { contract, document }),
        ]
    }

    fn event_of(step: &Step, contracts: &mut Vec<(u128, u32)>) -> Option<Event> {
        let names = ["Acme Testing", " acme  testing ", "Other Lab"];
        let days = ["2025-05-01", "2025-05-02", "2025-05-03", "2025-06-01"];
        let contract_at = |index: usize, contracts: &Vec<(u128, u32)>| {
            (!contracts.is_empty()).then(|| contracts[index % contracts.len()])
        };
        Some(match step {
            Step::Applicant { n, name } => applicant(*n, names[usize::from(*name)]),
            Step::Provider { n, name, contact } => {
                provider(*n, names[usize::from(*name)], ["a@x", "b@x", ""][usize::from(*contact)])
            }
            Step::Contract { provider, applicant, total, amount, document, guian } => {
                let id = contracts.len() as u128 + 1;
                contracts.push((id, *provider));
                let Event::ContractSubmitted { contract_id, mut terms, submitted_by } =
                    contract(id, *provider, *applicant, ["100.00", "250.00"][usize::from(*total)], *document)
                else {
                    return None;
                };
                terms.voucher_amount = cny(["10.00", "20.00", "90.00"][usize::from(*amount)]);
                if *guian {
                    terms.jurisdiction = Jurisdiction::Guian;
                }
                Event::ContractSubmitted { contract_id, terms, submitted_by }
            }
            Step::Filed { contract, day: d } => {
                let (id, _) = contract_at(*contract, contracts)?;
                filed(id, days[usize::from(*d)])
            }
            Step::Completed { contract, day: d } => {
                let (id, provider) = contract_at(*contract, contracts)?;
                completed(id, provider, days[usize::from(*d)])
            }
            Step::Redemption { contract, document } => {
                let (id, _) = contract_at(*contract, contracts)?;
                redemption(900 + id, id, *document)
            }
        })
    }

    /// The histories reach every kind of signal (else the property above could pass by firing nothing).
    #[test]
    fn the_random_histories_fire_every_kind_of_signal() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..64 {
            let steps = proptest::collection::vec(step(), 0..60)
                .new_tree(&mut runner)
                .expect("a history")
                .current();
            let mut contracts = Vec::new();
            let events: Vec<Event> = steps.iter().filter_map(|step| event_of(step, &mut contracts)).collect();
            seen.extend(kinds(&fold(events)));
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), Kind::ALL);
    }

    proptest! {
        // 64 histories of up to 60 events: each kind of signal fires in most of them, and stops firing
        // (a dominant provider overtaken, a share of a group) in many.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// After every event, the signals kept up to date are exactly the signals recomputed from scratch.
        #[test]
        fn the_signals_kept_up_to_date_are_the_signals_recomputed_from_scratch(
            steps in proptest::collection::vec(step(), 0..60)
        ) {
            let mut contracts = Vec::new();
            let events: Vec<Event> = steps.iter().filter_map(|step| event_of(step, &mut contracts)).collect();
            for end in 0..=events.len() {
                let model = fold(events[..end].to_vec());
                let signals = model.signals();
                let expected = recomputed(&model);
                prop_assert_eq!(&signals, &expected, "after {} events", end);
                // Every signal that fires builds (none fires without a signal), with the kind it fired as.
                let fired: Vec<Fired<'_>> = model.fired().collect();
                prop_assert_eq!(fired.len(), signals.len());
                for (fired, signal) in fired.iter().zip(&signals) {
                    prop_assert_eq!(fired.kind(), signal.kind);
                    prop_assert_eq!(fired.signal(), Some(signal.clone()));
                }
            }
        }
    }
}
