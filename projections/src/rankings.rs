//! Rankings: providers ordered by their applicants' ratings (Measures art. 10), overall and per service
//! category, robust to providers with few ratings.
//!
//! A rating's score is the mean of its three marks (quality, timeliness, professionalism; 1 to 5 each). A
//! provider's rank score is the Bayesian average of its scores with a stated prior:
//! `(PRIOR_WEIGHT * PRIOR_MEAN + sum of scores) / (PRIOR_WEIGHT + number of ratings)`. The prior is the
//! middle of the scale (3.0) weighted as five ratings, so one 5-star rating scores 3.33 while forty ratings
//! averaging 4.8 score 4.6: a provider climbs by being rated well often, not once. The prior is fixed rather
//! than the mean of all ratings because ratings cluster near the top of the scale, and a prior there would
//! let a single top mark outrank a long record of excellent ones.

use std::collections::{BTreeMap, HashMap};

use domain::{CreditCode, Event};
use ledger_proto::Recorded;
use serde::Serialize;

use crate::ReadModel;

/// The prior's mean: the middle of the 1-5 scale.
pub const PRIOR_MEAN: f64 = 3.0;
/// The prior's weight, in ratings.
pub const PRIOR_WEIGHT: f64 = 5.0;

/// The prior every ranking states in its response.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Prior {
    pub mean: f64,
    pub weight: f64,
}

/// The prior in force.
pub const PRIOR: Prior = Prior { mean: PRIOR_MEAN, weight: PRIOR_WEIGHT };

/// Ratings summed in thirds of a mark, so that sums stay exact integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Tally {
    ratings: u32,
    /// Sum over ratings of (quality + timeliness + professionalism).
    marks: u64,
}

impl Tally {
    fn add(&mut self, marks: u64) {
        self.ratings += 1;
        self.marks += marks;
    }
}

/// One provider's place in a ranking.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RankedProvider {
    /// 1 for the best.
    pub rank: u32,
    pub provider: CreditCode,
    pub ratings: u32,
    /// The plain mean of its rating scores.
    pub mean: f64,
    /// The Bayesian average the ranking orders by.
    pub score: f64,
}

/// The rankings read model.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rankings {
    overall: HashMap<CreditCode, Tally>,
    by_category: BTreeMap<String, HashMap<CreditCode, Tally>>,
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

impl Rankings {
    /// The ranking over every rating, or over the ratings of one service category.
    pub fn ranking(&self, category: Option<&str>) -> Vec<RankedProvider> {
        let empty = HashMap::new();
        let tallies = match category {
            None => &self.overall,
            Some(category) => self.by_category.get(category).unwrap_or(&empty),
        };
        let mut rows: Vec<RankedProvider> = tallies
            .iter()
            .map(|(provider, tally)| {
                let ratings = f64::from(tally.ratings);
                // Each rating's score is its marks over three.
                let sum = tally.marks as f64 / 3.0;
                RankedProvider {
                    rank: 0,
                    provider: provider.clone(),
                    ratings: tally.ratings,
                    mean: round4(sum / ratings.max(1.0)),
                    score: round4((PRIOR_WEIGHT * PRIOR_MEAN + sum) / (PRIOR_WEIGHT + ratings)),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.ratings.cmp(&a.ratings))
                .then_with(|| a.provider.as_str().cmp(b.provider.as_str()))
        });
        for (index, row) in rows.iter_mut().enumerate() {
            row.rank = u32::try_from(index + 1).unwrap_or(u32::MAX);
        }
        rows
    }

    /// The service categories that have ratings.
    pub fn categories(&self) -> Vec<&str> {
        self.by_category.keys().map(String::as_str).collect()
    }
}

impl ReadModel for Rankings {
    fn name(&self) -> &'static str {
        "rankings"
    }

    fn apply(&mut self, record: &Recorded) {
        if let Event::ServiceRated { provider, category, quality, timeliness, professionalism, .. } =
            &record.event
        {
            let marks = u64::from(*quality) + u64::from(*timeliness) + u64::from(*professionalism);
            self.overall.entry(provider.clone()).or_default().add(marks);
            self.by_category
                .entry(category.clone())
                .or_default()
                .entry(provider.clone())
                .or_default()
                .add(marks);
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::testing::record;

    fn code(n: u32) -> CreditCode {
        domain::credit_code::with_check_character(&format!("915201{n:011}")).expect("valid code")
    }

    fn rated(provider: u32, category: &str, marks: (u8, u8, u8)) -> Event {
        Event::ServiceRated {
            contract_id: Uuid::nil(),
            provider: code(provider),
            category: category.into(),
            quality: marks.0,
            timeliness: marks.1,
            professionalism: marks.2,
            text: String::new(),
        }
    }

    fn fold(events: Vec<Event>) -> Rankings {
        let mut model = Rankings::default();
        for (index, event) in events.into_iter().enumerate() {
            model.apply(&record(index as u64 + 1, "2025-06-01", event));
        }
        model
    }

    #[test]
    fn one_five_star_rating_ranks_below_forty_ratings_averaging_four_point_eight() {
        // Provider 1: one perfect rating. Provider 2: 32 perfect ratings and 8 of all fours (mean 4.8).
        let mut events = vec![rated(1, "inspection_testing", (5, 5, 5))];
        events.extend((0..32).map(|_| rated(2, "inspection_testing", (5, 5, 5))));
        events.extend((0..8).map(|_| rated(2, "inspection_testing", (4, 4, 4))));
        let model = fold(events);
        let ranking = model.ranking(None);
        assert_eq!(ranking.len(), 2);
        assert_eq!((ranking[0].provider.clone(), ranking[0].rank, ranking[0].ratings), (code(2), 1, 40));
        assert_eq!(ranking[0].mean, 4.8);
        assert_eq!(ranking[0].score, 4.6);
        assert_eq!((ranking[1].provider.clone(), ranking[1].rank, ranking[1].mean), (code(1), 2, 5.0));
        assert_eq!(ranking[1].score, 3.3333);
        // The category ranking is the same here, and another category has none of them.
        assert_eq!(model.ranking(Some("inspection_testing")), ranking);
        assert_eq!(model.ranking(Some("industrial_design")), vec![]);
        assert_eq!(model.categories(), vec!["inspection_testing"]);
    }

    #[test]
    fn a_category_ranking_counts_only_that_categorys_ratings() {
        let model = fold(vec![
            rated(1, "inspection_testing", (5, 5, 5)),
            rated(1, "industrial_design", (1, 1, 1)),
            rated(2, "industrial_design", (4, 4, 4)),
        ]);
        let design = model.ranking(Some("industrial_design"));
        assert_eq!(design.iter().map(|r| r.provider.clone()).collect::<Vec<_>>(), vec![code(2), code(1)]);
        assert_eq!(design[1].mean, 1.0);
        let overall = model.ranking(None);
        assert_eq!(overall.iter().find(|r| r.provider == code(1)).map(|r| r.ratings), Some(2));
    }
}
