//! `GetAgreementSummary`: the latest version in plain language, as text and HTML, short and
//! plain enough to read in two minutes, seen by whoever may see the agreement and refused
//! by field for a bad id.

use rust_decimal::Decimal;
use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::{Code, Status};

use crate::agreements::{by_hand, holder, person};
use crate::plan_events::*;
use crate::support::*;

impl TestApp {
    pub async fn summary(&self, token: &str, id: &str) -> Result<proto::AgreementSummary, Status> {
        self.client()
            .get_agreement_summary(bearer(
                token,
                proto::GetAgreementSummaryRequest {
                    agreement_id: id.into(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }
}

#[tokio::test]
async fn the_summary_of_a_draft_is_short_plain_and_says_what_the_agreement_does() {
    let app = TestApp::spawn().await;
    app.plan_held_undrafted().await;
    let drafted = app.draft(&practitioner("fife"), by_hand()).await.unwrap();

    let summary = app.summary(&person(PERSON_ID), &drafted.id).await.unwrap();

    assert_eq!(summary.agreement_id, drafted.id);
    assert_eq!(summary.version, 1);
    assert!(
        summary.words > 0 && summary.words <= 350,
        "{} words",
        summary.words
    );
    let ease: Decimal = summary.reading_ease.parse().unwrap();
    assert!(
        ease >= Decimal::from(70),
        "reading ease {ease}:\n{}",
        summary.text
    );
    let text = &summary.text;
    for said in [
        "Ann Innes, who acts for you as your welfare guardian.",
        "Your provider, who gives you your support.",
        "Fife, who pays for it.",
        "Your fund holder, who holds the money for you.",
        "Personal care: £210.13 a week, from 1 December 2026.",
        // 7.5% of 210.13 taken out of the budget.
        "That is £15.76 a week.",
        "Fife pays the money to your fund holder.",
        "It pays every four weeks.",
        "Each payment is made 14 days after the time it covers ends.",
        "28 days' notice",
        "1 June 2027",
        "I want to stay in my own home and get to the lunch club on Fridays.",
    ] {
        assert!(text.contains(said), "{said:?} missing from:\n{text}");
    }
    let html = &summary.html;
    assert!(
        html.starts_with("<h2>Who this agreement is between</h2>\n"),
        "{html}"
    );
    assert!(
        html.contains("<li>Your provider, who gives you your support.</li>"),
        "{html}"
    );
    assert!(html.contains("£15.76 a week"), "{html}");

    // Every party and the authority's staff read the same summary.
    for token in [provider(PROVIDER_ID), holder(), practitioner("fife")] {
        assert_eq!(app.summary(&token, &drafted.id).await.unwrap(), summary);
    }
}

#[tokio::test]
async fn only_those_who_may_see_the_agreement_read_its_summary_and_a_bad_id_is_named() {
    let app = TestApp::spawn().await;
    app.plan_held_undrafted().await;
    let drafted = app.draft(&practitioner("fife"), by_hand()).await.unwrap();

    for token in [
        practitioner("angus"),
        provider(OTHER_PROVIDER_ID),
        person("0192f0c1-0000-7000-8000-0000000000b2"),
    ] {
        let refused = assert_code(app.summary(&token, &drafted.id).await, Code::NotFound);
        assert!(refused.contains(&drafted.id), "{refused}");
    }
    let unknown = "0192f0c1-0000-7000-8000-0000000000ff";
    assert_code(
        app.summary(&practitioner("fife"), unknown).await,
        Code::NotFound,
    );
    for bad in ["", "not-an-id"] {
        assert_invalid(
            app.summary(&practitioner("fife"), bad).await,
            "agreement_id",
        );
    }
}
