//! A resource allocation system (RAS): scored questions, each with a maximum score; the
//! total points give a weekly amount, either through a band (a points range mapped to a
//! fixed amount or to its own price per point) or at the standard price per point; an
//! optional cap limits the result.
//!
//! What must stay true: a policy's RAS has at least one question, unique question codes,
//! positive maximum scores, no negative price, fixed amount or cap, and bands that do not
//! overlap; a score is worked out only from an answer to every question within its maximum,
//! and every step of the sum is a breakdown line with its reason, so the person sees how
//! their budget was reached. Arithmetic is in whole pence: points are whole numbers and
//! prices whole pence, so nothing is rounded.

use sds_money::{Money, money_from_pence};
use sds_vocabulary::Invalid;

use super::budget::BudgetLine;

/// A question or domain of the assessment that scores points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasQuestion {
    /// A short stable code, such as `personal_care`, that answers refer to.
    pub code: String,
    /// What is shown to people: `Personal care`.
    pub label: String,
    pub max_score: u32,
}

/// What a band of total points is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandAward {
    /// A fixed weekly amount, whatever the points within the band.
    Fixed { per_week: Money },
    /// The band's own price for each point.
    PricePerPoint { price: Money },
}

/// Totals from `from_points` to `to_points`, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RasBand {
    pub from_points: u32,
    pub to_points: u32,
    pub award: BandAward,
}

impl RasBand {
    pub fn contains(&self, points: u32) -> bool {
        self.from_points <= points && points <= self.to_points
    }
}

/// An authority's resource allocation system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceAllocationSystem {
    pub questions: Vec<RasQuestion>,
    /// The price of a point for totals outside every band.
    pub price_per_point: Money,
    pub bands: Vec<RasBand>,
    /// The most the RAS gives a week, if the authority caps it.
    pub weekly_cap: Option<Money>,
}

/// A score given to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasAnswer {
    pub code: String,
    pub score: u32,
}

/// The weekly amount a RAS gives, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasOutcome {
    pub total_points: u32,
    pub weekly: Money,
    pub breakdown: Vec<BudgetLine>,
}

impl ResourceAllocationSystem {
    /// Checks the RAS; field names are relative to it (`questions[1].code`, `bands[0]`).
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.questions.is_empty() {
            return Err(Invalid::new(
                "questions",
                "is empty; a resource allocation system needs at least one scored question",
            ));
        }
        for (index, question) in self.questions.iter().enumerate() {
            let field = format!("questions[{index}]");
            if question.code.trim().is_empty() {
                return Err(Invalid::new(
                    format!("{field}.code"),
                    "is empty; give each question a code",
                ));
            }
            if self.questions[..index]
                .iter()
                .any(|earlier| earlier.code == question.code)
            {
                return Err(Invalid::new(
                    format!("{field}.code"),
                    format!(
                        "is {}, which an earlier question already uses; codes must be unique",
                        question.code
                    ),
                ));
            }
            if question.max_score == 0 {
                return Err(Invalid::new(
                    format!("{field}.max_score"),
                    "is 0; a question must be able to score at least 1 point",
                ));
            }
        }
        not_negative("price_per_point", self.price_per_point)?;
        if let Some(cap) = self.weekly_cap {
            not_negative("weekly_cap", cap)?;
        }
        for (index, band) in self.bands.iter().enumerate() {
            let field = format!("bands[{index}]");
            if band.to_points < band.from_points {
                return Err(Invalid::new(
                    format!("{field}.to_points"),
                    format!(
                        "is {}, below from_points {}; a band runs from its lower total to its higher",
                        band.to_points, band.from_points
                    ),
                ));
            }
            match band.award {
                BandAward::Fixed { per_week } => {
                    not_negative(&format!("{field}.per_week"), per_week)?
                }
                BandAward::PricePerPoint { price } => {
                    not_negative(&format!("{field}.price"), price)?
                }
            }
            if let Some(earlier) = self.bands[..index].iter().position(|earlier| {
                earlier.from_points <= band.to_points && band.from_points <= earlier.to_points
            }) {
                let other = self.bands[earlier];
                return Err(Invalid::new(
                    field,
                    format!(
                        "covers {} to {} points, overlapping bands[{earlier}] ({} to {}); a total must fall in one band at most",
                        band.from_points, band.to_points, other.from_points, other.to_points
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The weekly amount for `answers`: one answer per question, each within its maximum.
    /// Field names are relative to the answers (`answers[2].score`).
    pub fn score(&self, answers: &[RasAnswer]) -> Result<RasOutcome, Invalid> {
        let mut breakdown = Vec::with_capacity(self.questions.len() + 3);
        let mut total_points: u32 = 0;
        for (index, answer) in answers.iter().enumerate() {
            let field = format!("answers[{index}]");
            let Some(question) = self.questions.iter().find(|q| q.code == answer.code) else {
                let codes: Vec<&str> = self.questions.iter().map(|q| q.code.as_str()).collect();
                return Err(Invalid::new(
                    format!("{field}.code"),
                    format!(
                        "is {}, which is not a question of this RAS; accepted: {}",
                        answer.code,
                        codes.join(", ")
                    ),
                ));
            };
            if answers[..index]
                .iter()
                .any(|earlier| earlier.code == answer.code)
            {
                return Err(Invalid::new(
                    format!("{field}.code"),
                    format!(
                        "answers {} a second time; give one score per question",
                        answer.code
                    ),
                ));
            }
            if answer.score > question.max_score {
                return Err(Invalid::new(
                    format!("{field}.score"),
                    format!(
                        "is {}, above the most {} can score, {}",
                        answer.score, question.label, question.max_score
                    ),
                ));
            }
        }
        // Lines follow the order of the questions, not of the answers, so that every
        // breakdown of one RAS reads the same way.
        for question in &self.questions {
            let Some(answer) = answers.iter().find(|a| a.code == question.code) else {
                return Err(Invalid::new(
                    "answers",
                    format!(
                        "has no score for {} ({}); score every question, 0 where it does not apply",
                        question.label, question.code
                    ),
                ));
            };
            total_points = total_points.saturating_add(answer.score);
            breakdown.push(BudgetLine {
                description: format!(
                    "{}: {} of {} points",
                    question.label, answer.score, question.max_score
                ),
                points: Some(answer.score),
                amount: None,
            });
        }
        breakdown.push(BudgetLine {
            description: format!("Total: {total_points} points"),
            points: Some(total_points),
            amount: None,
        });

        let band = self.bands.iter().find(|band| band.contains(total_points));
        let (uncapped, reason) = match band.map(|band| (band, band.award)) {
            Some((band, BandAward::Fixed { per_week })) => (
                per_week,
                format!(
                    "Band {} to {} points: a fixed {per_week} a week",
                    band.from_points, band.to_points
                ),
            ),
            Some((band, BandAward::PricePerPoint { price })) => (
                points_at_price(total_points, price)?,
                format!(
                    "Band {} to {} points: {total_points} points at {price} a point",
                    band.from_points, band.to_points
                ),
            ),
            None => (
                points_at_price(total_points, self.price_per_point)?,
                format!("{total_points} points at {} a point", self.price_per_point),
            ),
        };
        breakdown.push(BudgetLine {
            description: reason,
            points: None,
            amount: Some(uncapped),
        });
        let weekly = match self.weekly_cap {
            Some(cap) if uncapped > cap => {
                breakdown.push(BudgetLine {
                    description: format!("Capped at {cap} a week, the most this authority's RAS gives (before the cap {uncapped})"),
                    points: None,
                    amount: Some(cap),
                });
                cap
            }
            _ => uncapped,
        };
        Ok(RasOutcome {
            total_points,
            weekly,
            breakdown,
        })
    }
}

fn points_at_price(points: u32, price: Money) -> Result<Money, Invalid> {
    money_from_pence(i128::from(points) * i128::from(price.pence())).map_err(|_| {
        Invalid::new(
            "answers",
            format!("give a total of {points} points, which at {price} a point is more than any budget can be"),
        )
    })
}

fn not_negative(field: &str, amount: Money) -> Result<(), Invalid> {
    if amount.is_negative() {
        return Err(Invalid::new(
            field,
            format!("is {amount}; it must be 0.00 or more"),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        Money::parse(text).expect("test amounts are valid")
    }

    fn question(code: &str, label: &str, max_score: u32) -> RasQuestion {
        RasQuestion {
            code: code.to_owned(),
            label: label.to_owned(),
            max_score,
        }
    }

    fn answer(code: &str, score: u32) -> RasAnswer {
        RasAnswer {
            code: code.to_owned(),
            score,
        }
    }

    /// Three questions of 20 points; 8.50 a point; a fixed 100.00 for 0 to 10 points and
    /// 9.00 a point from 41 to 50; a cap of 400.00.
    pub(crate) fn example_ras() -> ResourceAllocationSystem {
        ResourceAllocationSystem {
            questions: vec![
                question("personal_care", "Personal care", 20),
                question("daily_living", "Daily living", 20),
                question("community", "Being part of the community", 20),
            ],
            price_per_point: money("8.50"),
            bands: vec![
                RasBand {
                    from_points: 0,
                    to_points: 10,
                    award: BandAward::Fixed {
                        per_week: money("100.00"),
                    },
                },
                RasBand {
                    from_points: 41,
                    to_points: 50,
                    award: BandAward::PricePerPoint {
                        price: money("9.00"),
                    },
                },
            ],
            weekly_cap: Some(money("400.00")),
        }
    }

    fn answers(scores: [u32; 3]) -> Vec<RasAnswer> {
        vec![
            answer("community", scores[2]),
            answer("personal_care", scores[0]),
            answer("daily_living", scores[1]),
        ]
    }

    #[test]
    fn the_ras_prices_points_by_band_or_the_standard_price_and_applies_its_cap() {
        let ras = example_ras();
        assert!(ras.validate().is_ok());
        let cases = [
            // In the fixed band.
            ([3, 4, 3], 10, "100.00"),
            // Outside every band: 8.50 a point.
            ([10, 10, 10], 30, "255.00"),
            // In the 9.00 band.
            ([15, 15, 12], 42, "378.00"),
            // 9.00 x 50 = 450.00, capped at 400.00.
            ([20, 20, 10], 50, "400.00"),
            // Beyond the last band: 8.50 x 60 = 510.00, capped.
            ([20, 20, 20], 60, "400.00"),
        ];
        for (scores, points, weekly) in cases {
            let outcome = ras.score(&answers(scores)).unwrap();
            assert_eq!(outcome.total_points, points, "{scores:?}");
            assert_eq!(outcome.weekly.to_string(), weekly, "{scores:?}");
        }
    }

    #[test]
    fn the_breakdown_shows_each_question_the_total_the_price_and_the_cap() {
        let outcome = example_ras().score(&answers([20, 20, 10])).unwrap();
        let lines: Vec<&str> = outcome
            .breakdown
            .iter()
            .map(|line| line.description.as_str())
            .collect();
        assert_eq!(
            lines,
            [
                "Personal care: 20 of 20 points",
                "Daily living: 20 of 20 points",
                "Being part of the community: 10 of 20 points",
                "Total: 50 points",
                "Band 41 to 50 points: 50 points at 9.00 a point",
                "Capped at 400.00 a week, the most this authority's RAS gives (before the cap 450.00)",
            ]
        );
    }

    #[test]
    fn answers_that_are_unknown_repeated_missing_or_above_the_maximum_are_refused() {
        let ras = example_ras();
        let cases = [
            (
                vec![
                    answer("personal_care", 21),
                    answer("daily_living", 0),
                    answer("community", 0),
                ],
                "answers[0].score",
                "above the most Personal care can score, 20",
            ),
            (
                vec![answer("mobility", 1)],
                "answers[0].code",
                "not a question of this RAS",
            ),
            (
                vec![answer("personal_care", 1), answer("personal_care", 2)],
                "answers[1].code",
                "a second time",
            ),
            (
                vec![answer("personal_care", 1), answer("daily_living", 2)],
                "answers",
                "no score for Being part of the community",
            ),
        ];
        for (given, field, problem) in cases {
            let error = ras.score(&given).unwrap_err();
            assert_eq!(error.field(), field);
            assert!(error.problem().contains(problem), "{error}");
        }
    }

    #[test]
    fn a_ras_with_overlapping_bands_duplicate_codes_or_negative_prices_is_refused() {
        let mut overlapping = example_ras();
        overlapping.bands.push(RasBand {
            from_points: 50,
            to_points: 55,
            award: BandAward::Fixed {
                per_week: money("1.00"),
            },
        });
        let mut duplicate = example_ras();
        duplicate.questions[2].code = "personal_care".to_owned();
        let mut negative_price = example_ras();
        negative_price.price_per_point = money("-0.01");
        let mut negative_band = example_ras();
        negative_band.bands[1].award = BandAward::PricePerPoint {
            price: money("-1.00"),
        };
        let mut backwards = example_ras();
        backwards.bands[0].to_points = 0;
        backwards.bands[0].from_points = 5;
        let mut no_questions = example_ras();
        no_questions.questions.clear();
        let mut zero_max = example_ras();
        zero_max.questions[1].max_score = 0;
        let mut negative_cap = example_ras();
        negative_cap.weekly_cap = Some(money("-5.00"));
        let cases = [
            (overlapping, "bands[2]", "overlapping bands[1] (41 to 50)"),
            (duplicate, "questions[2].code", "unique"),
            (negative_price, "price_per_point", "0.00 or more"),
            (negative_band, "bands[1].price", "0.00 or more"),
            (backwards, "bands[0].to_points", "below from_points 5"),
            (no_questions, "questions", "at least one"),
            (zero_max, "questions[1].max_score", "at least 1 point"),
            (negative_cap, "weekly_cap", "0.00 or more"),
        ];
        for (ras, field, problem) in cases {
            let error = ras.validate().unwrap_err();
            assert_eq!(error.field(), field);
            assert!(error.problem().contains(problem), "{error}");
        }
    }
}
