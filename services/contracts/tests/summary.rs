//! The plain-language summary of an agreement, for every fee kind, timing and frequency:
//! short enough to read in two minutes, plain enough for a reading age of 9, and saying
//! the amounts, payee, notice and review; its HTML escapes what the data says.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sds_contracts::domain::readability::{TextStats, word_count};
use sds_contracts::domain::summary::{SummaryFacts, SummaryLine, summary_html, summary_text};
use sds_contracts::domain::{
    Capacity, FeePlacement, Frequency, HoldingModel, ManagementFee, PaymentTiming, Representative,
};
use sds_money::Money;

const MAX_WORDS: usize = 350;
const MIN_READING_EASE_MILLI: i64 = 70_000;

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
}

fn money(text: &str) -> Money {
    Money::parse(text).expect("valid test amount")
}

/// Every fee kind, a percentage both on top and within the budget.
fn fee_kinds() -> [ManagementFee; 6] {
    [
        ManagementFee::None,
        ManagementFee::FlatWeekly {
            per_week: money("33.00"),
        },
        ManagementFee::Percentage {
            percent: dec!(8),
            placement: FeePlacement::WithinBudget,
        },
        ManagementFee::Percentage {
            percent: dec!(8),
            placement: FeePlacement::OnTop,
        },
        ManagementFee::AdminHours {
            hours_per_week: dec!(1.5),
            hourly_rate: money("22.00"),
        },
        ManagementFee::IncludedInHourlyRate,
    ]
}

fn timings() -> [PaymentTiming; 2] {
    [
        PaymentTiming::Advance,
        PaymentTiming::Arrears { lag_days: 14 },
    ]
}

fn frequencies() -> [Frequency; 3] {
    [
        Frequency::FourWeekly,
        Frequency::Quarterly,
        Frequency::Monthly,
    ]
}

/// Who else is named: Ann Innes acting for Morag, and a third-party fund holder (without
/// one, the provider holds the money).
#[derive(Clone, Copy)]
struct Others {
    representative: bool,
    holder: bool,
}

impl Others {
    const ALL: [Others; 4] = [
        Others::BOTH,
        Others::NONE,
        Others {
            representative: true,
            holder: false,
        },
        Others {
            representative: false,
            holder: true,
        },
    ];
    const BOTH: Others = Others {
        representative: true,
        holder: true,
    };
    const NONE: Others = Others {
        representative: false,
        holder: false,
    };
}

/// Morag Innes's agreement with Deeside Home Care, varied by the arguments.
fn facts(
    fee: ManagementFee,
    timing: PaymentTiming,
    frequency: Frequency,
    actuals_based: bool,
    others: Others,
) -> SummaryFacts {
    SummaryFacts {
        person: "Morag Innes".into(),
        representative: others.representative.then(|| Representative {
            name: "Ann Innes".into(),
            capacity: Capacity::WelfarePowerOfAttorney,
        }),
        provider: "Deeside Home Care".into(),
        authority: "Demo Shire Council".into(),
        holder: others.holder.then(|| "Grampian Fund Care".into()),
        holding_model: if others.holder {
            HoldingModel::ThirdParty
        } else {
            HoldingModel::Provider
        },
        outcomes: "To stay in my own home and get out to see my friends".into(),
        lines: vec![
            SummaryLine {
                description: "personal care".into(),
                weekly: money("210.00"),
                from: date(2027, 4, 1),
                to: None,
            },
            SummaryLine {
                description: "help to get out and about".into(),
                weekly: money("64.50"),
                from: date(2027, 4, 1),
                to: Some(date(2028, 3, 31)),
            },
        ],
        fee,
        fee_weekly: if matches!(
            fee,
            ManagementFee::None | ManagementFee::IncludedInHourlyRate
        ) {
            Money::zero()
        } else {
            money("33.00")
        },
        weekly_total: money("307.50"),
        frequency,
        timing,
        actuals_based,
        tolerance_percent: Decimal::from(10),
        payee: "Deeside Home Care".into(),
        notice_days: 28,
        review_on: date(2027, 10, 1),
        start: date(2027, 4, 1),
        end: Some(date(2028, 3, 31)),
    }
}

fn every_combination() -> Vec<SummaryFacts> {
    let mut all = Vec::new();
    for fee in fee_kinds() {
        for timing in timings() {
            for frequency in frequencies() {
                for actuals in [true, false] {
                    for others in Others::ALL {
                        all.push(facts(fee, timing, frequency, actuals, others));
                    }
                }
            }
        }
    }
    all
}

#[test]
fn every_summary_is_short_and_plain() {
    let all = every_combination();
    // Five fee kinds, the percentage both on top and within the budget.
    assert_eq!(all.len(), 6 * 2 * 3 * 2 * 4);
    let mut most_words = 0;
    let mut fewest_words = usize::MAX;
    let mut lowest_ease = i64::MAX;
    for facts in &all {
        let text = summary_text(facts);
        let words = word_count(&text);
        let ease = TextStats::of(&text)
            .reading_ease_milli()
            .expect("a summary has words");
        assert!(words <= MAX_WORDS, "{words} words:\n{text}");
        assert!(
            ease >= MIN_READING_EASE_MILLI,
            "reading ease {ease}/1000:\n{text}"
        );
        most_words = most_words.max(words);
        fewest_words = fewest_words.min(words);
        lowest_ease = lowest_ease.min(ease);
    }
    // Shown with --nocapture, to see how much room is left.
    println!("words {fewest_words}..={most_words}, lowest reading ease {lowest_ease}/1000");
}

#[test]
fn every_summary_says_the_amounts_payee_notice_and_review() {
    for facts in every_combination() {
        let text = summary_text(&facts);
        for needed in [
            "£210.00 a week",
            "£64.50 a week",
            "£307.50 a week",
            "to Deeside Home Care",
            "28 days' notice",
            "1 October 2027",
            "1 April 2027",
        ] {
            assert!(text.contains(needed), "missing {needed:?}:\n{text}");
        }
        if matches!(
            facts.fee,
            ManagementFee::FlatWeekly { .. }
                | ManagementFee::Percentage { .. }
                | ManagementFee::AdminHours { .. }
        ) {
            assert!(text.contains("£33.00 a week"), "fee missing:\n{text}");
        }
    }
}

#[test]
fn each_fee_kind_timing_and_frequency_is_explained() {
    let base = || {
        facts(
            ManagementFee::None,
            PaymentTiming::Advance,
            Frequency::Monthly,
            false,
            Others::BOTH,
        )
    };
    let text = summary_text(&base());
    assert!(text.contains("no fee"), "{text}");
    assert!(
        text.contains("at the start of the time it covers"),
        "{text}"
    );
    assert!(text.contains("every month"), "{text}");
    assert!(text.contains("Ann Innes, who acts for you as your welfare power of attorney"));
    assert!(text.contains("Grampian Fund Care, who holds the money"));

    let text = summary_text(&facts(
        ManagementFee::Percentage {
            percent: dec!(8),
            placement: FeePlacement::WithinBudget,
        },
        PaymentTiming::Arrears { lag_days: 14 },
        Frequency::Quarterly,
        true,
        Others::NONE,
    ));
    assert!(text.contains("8% of your budget"), "{text}");
    assert!(text.contains("comes out of your budget"), "{text}");
    assert!(
        text.contains("14 days after the time it covers ends"),
        "{text}"
    );
    assert!(text.contains("every three months"), "{text}");
    assert!(text.contains("within 10% of your plan"), "{text}");
    assert!(text.contains("Deeside Home Care holds the money"), "{text}");
    assert!(!text.contains("Ann Innes"), "{text}");

    let text = summary_text(&facts(
        ManagementFee::AdminHours {
            hours_per_week: dec!(1.5),
            hourly_rate: money("22.00"),
        },
        PaymentTiming::Advance,
        Frequency::FourWeekly,
        false,
        Others::NONE,
    ));
    assert!(
        text.contains("1.5 hours of admin a week, at £22.00 an hour"),
        "{text}"
    );
    assert!(text.contains("on top of your budget"), "{text}");
    assert!(text.contains("every four weeks"), "{text}");

    let text = summary_text(&facts(
        ManagementFee::IncludedInHourlyRate,
        PaymentTiming::Advance,
        Frequency::FourWeekly,
        false,
        Others::NONE,
    ));
    assert!(text.contains("part of the hourly rate"), "{text}");
}

#[test]
fn html_escapes_what_the_data_says() {
    let mut facts = facts(
        ManagementFee::FlatWeekly {
            per_week: money("33.00"),
        },
        PaymentTiming::Advance,
        Frequency::Monthly,
        true,
        Others::BOTH,
    );
    facts.provider = "Smith & <Sons>".into();
    facts.payee = "Smith & <Sons>".into();
    facts.person = "Morag O'Neill".into();
    facts.outcomes = "<script>alert(\"hi\")</script>".into();
    let html = summary_html(&facts);
    assert!(html.contains("Smith &amp; &lt;Sons&gt;"), "{html}");
    assert!(html.contains("Morag O&#39;Neill"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<Sons"), "{html}");
    assert!(!html.contains("style"), "{html}");
    // Every tag left is one the summary writes itself.
    for tag in html.split('<').skip(1) {
        let name: String = tag.chars().take_while(|c| *c != '>').collect();
        assert!(
            ["h2", "/h2", "p", "/p", "ul", "/ul", "li", "/li"].contains(&name.as_str()),
            "unexpected tag <{name}> in:\n{html}"
        );
    }
    let text = summary_text(&facts);
    assert!(text.contains("You, Morag O'Neill."), "{text}");
    assert!(
        text.contains("Smith & <Sons>, who gives you your support."),
        "{text}"
    );
}

#[test]
fn html_has_the_same_sections_as_the_text() {
    let facts = facts(
        ManagementFee::FlatWeekly {
            per_week: money("33.00"),
        },
        PaymentTiming::Advance,
        Frequency::Monthly,
        true,
        Others::BOTH,
    );
    let html = summary_html(&facts);
    let text = summary_text(&facts);
    for heading in [
        "Who this agreement is between",
        "Your support",
        "How much it costs",
        "How the money is paid",
        "If you want to change or end it",
    ] {
        assert!(html.contains(&format!("<h2>{heading}</h2>")), "{html}");
        assert!(text.contains(&format!("{heading}\n\n")), "{text}");
    }
    assert!(html.contains("<ul>\n<li>"), "{html}");
}

#[test]
fn an_unnamed_third_party_or_the_authority_can_hold_the_money() {
    let mut facts = facts(
        ManagementFee::FlatWeekly {
            per_week: money("33.00"),
        },
        PaymentTiming::Arrears { lag_days: 0 },
        Frequency::Monthly,
        false,
        Others::NONE,
    );
    facts.holding_model = HoldingModel::ThirdParty;
    let text = summary_text(&facts);
    assert!(
        text.contains("- Someone else, who holds the money for you."),
        "{text}"
    );
    assert!(
        text.contains("as soon as the time it covers ends"),
        "{text}"
    );
    facts.holding_model = HoldingModel::Authority;
    facts.tolerance_percent = Decimal::ZERO;
    facts.notice_days = 1;
    facts.representative = Some(Representative {
        name: "Niall O'Neill".into(),
        capacity: Capacity::WelfareGuardian,
    });
    let text = summary_text(&facts);
    assert!(
        text.contains("Demo Shire Council holds the money"),
        "{text}"
    );
    assert!(text.contains("If it is different from your plan"), "{text}");
    assert!(text.contains("1 day's notice"), "{text}");
    assert!(
        text.contains("Niall O'Neill, who acts for you as your welfare guardian."),
        "{text}"
    );
    let ease = TextStats::of(&text).reading_ease_milli();
    assert!(
        ease.is_some_and(|ease| ease >= MIN_READING_EASE_MILLI),
        "{ease:?}"
    );
}
