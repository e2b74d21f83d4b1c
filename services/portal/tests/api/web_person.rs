//! The person's page: their own plan and budget in plain words that read easily, for them
//! alone, with what they wrote about themselves escaped.

use rust_decimal::Decimal;
use sds_platform::{AuthorityId, OrgKind, Principal, Role};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::{self as proto, ClientGroup, EligibilityLevel};
use sds_testkit::{authority_staff, bearer, provider_org, token_for};

use crate::web_support::*;

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

fn money(amount: &str) -> Option<proto::Money> {
    Some(proto::Money {
        amount: amount.to_owned(),
    })
}

fn limits(amount: Option<&str>) -> Option<proto::RoleLimits> {
    let limit = Some(proto::Limit {
        limit: Some(match amount {
            Some(amount) => proto::limit::Limit::UpTo(proto::Money {
                amount: amount.to_owned(),
            }),
            None => proto::limit::Limit::Unlimited(true),
        }),
    });
    Some(proto::RoleLimits {
        child: limit.clone(),
        adult: limit,
    })
}

/// A person of Fife named `name` with an approved plan of personal care at 210.00 a week
/// from 1 October 2026, within a budget of 235.00 a week; returns their id.
pub async fn person_with_an_approved_plan(platform: &Platform, name: &str) -> String {
    let mut client = AssessmentServiceClient::new(platform.process.channel().await);
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    client
        .set_policy(bearer(
            &commissioning,
            proto::SetPolicyRequest {
                details: Some(proto::PolicyDetails {
                    authority: "fife".into(),
                    effective_from: date("2026-04-01"),
                    eligibility_threshold: EligibilityLevel::Substantial as i32,
                    resource_allocation: None,
                    standard_hourly_rate: money("23.50"),
                    approval_limits: Some(proto::ApprovalLimits {
                        practitioner: limits(Some("375.00")),
                        team_manager: limits(Some("800.00")),
                        panel: limits(None),
                    }),
                    backdating_days: 90,
                    review_interval: Some(
                        proto::policy_details::ReviewInterval::ReviewIntervalMonths(12),
                    ),
                    sending_location: "100".into(),
                }),
            },
        ))
        .await
        .expect("policy");
    let person_id = client
        .record_person(bearer(
            &practitioner,
            proto::RecordPersonRequest {
                authority: "fife".into(),
                details: Some(proto::PersonDetails {
                    case_reference: format!(
                        "SW-{}",
                        &uuid::Uuid::now_v7().simple().to_string()[24..]
                    ),
                    display_name: name.into(),
                    date_of_birth: date("1944-02-11"),
                    locality: "Kirkcaldy".into(),
                    client_groups: vec![ClientGroup::ElderlyFrail as i32],
                }),
            },
        ))
        .await
        .expect("person")
        .into_inner()
        .id;
    client
        .record_assessment(bearer(
            &practitioner,
            proto::RecordAssessmentRequest {
                person_id: person_id.clone(),
                outcomes: vec!["To keep going to the lunch club".into()],
                needs: vec!["Help getting up and dressed".into()],
                eligibility: EligibilityLevel::Substantial as i32,
                assessed_on: date("2026-09-20"),
                community_resources: vec![],
            },
        ))
        .await
        .expect("eligible");
    client
        .set_indicative_budget(bearer(
            &practitioner,
            proto::SetIndicativeBudgetRequest {
                person_id: person_id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::HoursAtRates(
                    proto::HoursAtRates {
                        items: vec![proto::HoursItem {
                            description: "personal care".into(),
                            hours_per_week: "10".into(),
                            hourly_rate: None,
                        }],
                    },
                )),
                set_on: None,
            },
        ))
        .await
        .expect("budget at the standard rate: 235.00");
    client
        .draft_plan(bearer(
            &practitioner,
            proto::DraftPlanRequest {
                person_id: person_id.clone(),
                effective_from: date("2026-10-01"),
                lines: vec![proto::NewPlanLine {
                    support_type: proto::SupportType::PersonalCare as i32,
                    amount: Some(proto::LineAmount {
                        amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                            amount: "210.00".into(),
                        })),
                    }),
                    arrangement: Some(proto::Arrangement {
                        arrangement: Some(proto::arrangement::Arrangement::PersonDirected(
                            proto::PersonDirected::default(),
                        )),
                    }),
                    start: date("2026-10-01"),
                    end: None,
                }],
            },
        ))
        .await
        .expect("draft");
    client
        .submit_plan(bearer(
            &practitioner,
            proto::SubmitPlanRequest {
                person_id: person_id.clone(),
                version: 1,
                over_budget_reason: String::new(),
            },
        ))
        .await
        .expect("submit");
    client
        .approve_plan(bearer(
            &practitioner,
            proto::ApprovePlanRequest {
                person_id: person_id.clone(),
                version: 1,
            },
        ))
        .await
        .expect("approve");
    person_id
}

pub fn person_token(person_id: &str) -> String {
    token_for(&Principal {
        org_id: format!("person-{person_id}"),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![AuthorityId::parse("authority", "fife").expect("valid")],
        person_id: Some(person_id.to_owned()),
    })
}

/// Flesch reading ease: 206.835 - 1.015 (words / sentences) - 84.6 (syllables / words).
/// Syllables are counted as groups of vowels (y included), less a silent final "e", at
/// least one a word; sentences end at ".", "!" or "?" followed by a space, and at the end
/// of every heading, paragraph, list item and table cell, which a reader takes one by one.
// In decimals, as every figure of the platform is: the formula's constants are exact decimals.
fn flesch_reading_ease(html: &str) -> Decimal {
    let mut marked = html.split("<main").nth(1).unwrap_or(html).to_owned();
    for end in [
        "</h1>",
        "</h2>",
        "</h3>",
        "</p>",
        "</li>",
        "</td>",
        "</th>",
        "</caption>",
        "</figcaption>",
        "</a>",
    ] {
        marked = marked.replace(end, &format!(" |{end}"));
    }
    let text = visible_text(&marked);
    let mut sentences = 0usize;
    let mut words = 0usize;
    let mut syllables = 0usize;
    let mut in_sentence = false;
    for token in text.split_whitespace() {
        if token == "|" {
            if in_sentence {
                sentences += 1;
                in_sentence = false;
            }
            continue;
        }
        let word: String = token
            .chars()
            .filter(|character| character.is_alphanumeric())
            .collect();
        if word.is_empty() {
            continue;
        }
        words += 1;
        syllables += syllables_in(&word.to_lowercase());
        in_sentence = true;
        if token.ends_with(['.', '!', '?']) {
            sentences += 1;
            in_sentence = false;
        }
    }
    if in_sentence {
        sentences += 1;
    }
    assert!(words > 0 && sentences > 0, "the page has text: {text}");
    let (words, sentences, syllables) = (
        Decimal::from(words),
        Decimal::from(sentences),
        Decimal::from(syllables),
    );
    Decimal::new(206_835, 3)
        - Decimal::new(1_015, 3) * (words / sentences)
        - Decimal::new(846, 1) * (syllables / words)
}

fn syllables_in(word: &str) -> usize {
    let vowel = |character: char| "aeiouy".contains(character);
    let mut groups = 0;
    let mut previous_vowel = false;
    for character in word.chars() {
        let is_vowel = vowel(character);
        if is_vowel && !previous_vowel {
            groups += 1;
        }
        previous_vowel = is_vowel;
    }
    if word.len() > 2 && word.ends_with('e') && !word.ends_with("le") && groups > 1 {
        groups -= 1;
    }
    groups.max(1)
}

#[test]
fn the_flesch_helper_scores_plain_text_high_and_dense_text_low() {
    assert_eq!(syllables_in("money"), 2);
    assert_eq!(syllables_in("care"), 1);
    assert_eq!(syllables_in("£210"), 1);
    let plain = "<main><p>You get help at home. We pay for it.</p></main>";
    assert!(flesch_reading_ease(plain) > Decimal::from(90));
    let dense = "<main><p>Notwithstanding contractual obligations, remuneration considerations necessitate comprehensive organisational evaluation.</p></main>";
    assert!(flesch_reading_ease(dense) < Decimal::ZERO);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_persons_page_shows_their_plan_budget_and_support_in_plain_words_with_their_name_escaped()
 {
    let platform = Platform::start(vec![
        sds_assessment::component(),
        sds_contracts::component(),
    ])
    .await;
    let person_id = person_with_an_approved_plan(&platform, "Isla <script>Ross</script>").await;
    let mut browser = Browser::signed_in(platform.web(), &person_token(&person_id)).await;

    let page = browser.get("/portal/me").await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    let text = visible_text(&page.body);
    assert!(
        text.contains("Hello, Isla <script>Ross</script>."),
        "{text}"
    );
    assert!(
        text.contains("This page is correct on 28 November 2026."),
        "{text}"
    );
    assert!(
        text.contains("Your plan starts on 1 October 2026."),
        "{text}"
    );
    assert!(text.contains("Your budget is £235.00 a week."), "{text}");
    assert!(text.contains("Your plan costs £210.00 a week."), "{text}");
    assert!(
        text.contains("Personal care You are still choosing who gives this. £210.00"),
        "{text}"
    );
    assert!(text.contains("You have no agreement yet."), "{text}");
    assert!(
        text.contains("No money has been paid from your fund yet."),
        "{text}"
    );
    assert!(page.body.contains("<th scope=\"col\">Support</th>"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let same = browser.get(&format!("/portal/people/{person_id}")).await;
    assert_eq!(same.status, 200);

    let ease = flesch_reading_ease(&page.body);
    assert!(
        ease >= Decimal::from(70),
        "Flesch reading ease {} is below 70: {text}",
        ease.round_dp(1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_cannot_open_another_persons_page_and_a_provider_cannot_open_any() {
    let platform = Platform::start(vec![
        sds_assessment::component(),
        sds_contracts::component(),
    ])
    .await;
    let own = person_with_an_approved_plan(&platform, "Isla Ross").await;
    let other = uuid::Uuid::now_v7().to_string();
    let mut person = Browser::signed_in(platform.web(), &person_token(&own)).await;

    let refused = person.get(&format!("/portal/people/{other}")).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("another person&#39;s page"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("Isla"));

    let mut provider = Browser::signed_in(
        platform.web(),
        &token_for(&provider_org(&uuid::Uuid::now_v7().to_string())),
    )
    .await;
    for path in ["/portal/me".to_owned(), format!("/portal/people/{own}")] {
        let refused = provider.get(&path).await;
        assert_eq!(refused.status, 403, "{path}");
        assert!(
            refused
                .body
                .contains("only for the person the support is for"),
            "{}",
            refused.body
        );
        assert!(!refused.body.contains("Isla"));
    }
}
