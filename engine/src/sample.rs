//! `voucher-ledger sample`: the audit draw recomputed offline from the log (Measures art. 12, 13). The draw
//! is a deterministic function of the population as of a log position, the seed and the size, so anyone
//! holding the log gets the same sample as the auditor did.

use domain::{Event, Jurisdiction, State};
use futures::StreamExt;
use store::EventLog;
use uuid::Uuid;

/// A draw recomputed from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draw {
    pub jurisdiction: Jurisdiction,
    pub year: i32,
    pub size: u32,
    pub seed: String,
    pub as_of_position: u64,
    pub population: usize,
    pub contract_ids: Vec<Uuid>,
    /// When recomputing a recorded sample: what the log recorded, to compare.
    pub recorded: Option<Vec<Uuid>>,
}

/// Why a draw could not be recomputed.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("position {position}: {reason}")]
    Decode { position: u64, reason: String },
    #[error("sample {0} is not in the log")]
    UnknownSample(Uuid),
}

/// Folds the log up to and including `as_of_position` (0: the empty ledger).
///
/// # Errors
/// A store error or an undecodable record.
pub async fn state_as_of(log: &dyn EventLog, as_of_position: u64) -> Result<State, SampleError> {
    let mut state = State::new();
    let mut records = log.read_from(1);
    while let Some(record) = records.next().await {
        let record = record?;
        if record.position > as_of_position {
            break;
        }
        let recorded = ledger_proto::decode_record(&record)
            .map_err(|error| SampleError::Decode { position: record.position, reason: error.to_string() })?;
        state.evolve(&recorded.event);
    }
    Ok(state)
}

/// Draws a sample of `year`'s contracts in `jurisdiction` as the ledger stood at `as_of_position`.
///
/// # Errors
/// A store error or an undecodable record.
pub async fn draw(
    log: &dyn EventLog,
    jurisdiction: Jurisdiction,
    year: i32,
    size: u32,
    seed: &str,
    as_of_position: u64,
) -> Result<Draw, SampleError> {
    let state = state_as_of(log, as_of_position).await?;
    let population = domain::decide::sample_population(&state, jurisdiction, year);
    let contract_ids = domain::decide::draw_sample(&population, seed, size);
    Ok(Draw {
        jurisdiction,
        year,
        size,
        seed: seed.to_owned(),
        as_of_position,
        population: population.len(),
        contract_ids,
        recorded: None,
    })
}

/// Recomputes a recorded sample from its inputs and returns both the recomputed and the recorded draw.
///
/// # Errors
/// The sample is not in the log, or the log cannot be read.
pub async fn recheck(log: &dyn EventLog, sample_id: Uuid) -> Result<Draw, SampleError> {
    let mut records = log.read_from(1);
    let mut found = None;
    while let Some(record) = records.next().await {
        let record = record?;
        let recorded = ledger_proto::decode_record(&record)
            .map_err(|error| SampleError::Decode { position: record.position, reason: error.to_string() })?;
        if let Event::SampleDrawn {
            sample_id: id,
            jurisdiction,
            year,
            size,
            seed,
            as_of_position,
            contract_ids,
            ..
        } = recorded.event
            && id == sample_id
        {
            found = Some((jurisdiction, year, size, seed, as_of_position, contract_ids));
            break;
        }
    }
    drop(records);
    let (jurisdiction, year, size, seed, as_of_position, contract_ids) =
        found.ok_or(SampleError::UnknownSample(sample_id))?;
    let mut draw = draw(log, jurisdiction, year, size, &seed, as_of_position).await?;
    draw.recorded = Some(contract_ids);
    Ok(draw)
}
