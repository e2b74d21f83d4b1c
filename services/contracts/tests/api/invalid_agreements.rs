//! Bad input for every agreement RPC: `InvalidArgument` naming the field by its path, and
//! nothing written.

use sds_proto::v1 as proto;
use sds_testkit::bearer;

use crate::agreements::{by_hand, person};
use crate::plan_events::*;
use crate::support::*;

impl TestApp {
    /// Agreements, versions, signatures and events written, to show a refusal wrote none.
    pub async fn agreement_rows(&self) -> (i64, i64, i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM agreement), (SELECT count(*) FROM agreement_version), \
                    (SELECT count(*) FROM agreement_signature), (SELECT count(*) FROM outbox)",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

/// An option 2 line that ended before the plan took effect.
fn ended_line(number: u32) -> proto::PlanLine {
    let mut line = directed_line(number, PROVIDER_ID, Some(HOLDER_ID));
    line.start = date("2026-06-01");
    line.end = date("2026-11-30");
    line
}

fn representative(name: &str, capacity: &str) -> Option<proto::AgreementRepresentative> {
    Some(proto::AgreementRepresentative {
        name: name.into(),
        capacity: capacity_number(capacity),
    })
}

#[tokio::test]
async fn bad_agreement_requests_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    // Line 2 is option 3; line 3 is option 2 with another provider.
    let event = approved(
        "fife",
        plan(
            "fife",
            1,
            vec![
                directed_line(1, PROVIDER_ID, Some(HOLDER_ID)),
                arranged_line(2),
                directed_line(3, OTHER_PROVIDER_ID, None),
                ended_line(4),
            ],
        ),
    );
    app.publish(&event, &event.event_id).await;
    app.wait_for_plan_events(1).await;
    app.set_defaults("fife", terms()).await.unwrap();
    let staff = practitioner("fife");
    let long = "x".repeat(601);

    let drafts: Vec<(proto::DraftAgreementRequest, &str)> = vec![
        (
            proto::DraftAgreementRequest {
                authority: "Fife!".into(),
                ..by_hand()
            },
            "authority",
        ),
        (
            proto::DraftAgreementRequest {
                person_id: "someone".into(),
                ..by_hand()
            },
            "person_id",
        ),
        (
            proto::DraftAgreementRequest {
                plan_lines: vec![],
                ..by_hand()
            },
            "plan_lines",
        ),
        (
            proto::DraftAgreementRequest {
                plan_lines: vec![0],
                ..by_hand()
            },
            "plan_lines[0]",
        ),
        (
            proto::DraftAgreementRequest {
                plan_lines: vec![1, 1],
                ..by_hand()
            },
            "plan_lines[1]",
        ),
        (
            proto::DraftAgreementRequest {
                plan_lines: vec![9],
                ..by_hand()
            },
            "plan_lines[0]",
        ),
        (
            proto::DraftAgreementRequest {
                plan_lines: vec![2],
                ..by_hand()
            },
            "plan_lines[0]",
        ),
        (
            proto::DraftAgreementRequest {
                plan_lines: vec![1, 4],
                ..by_hand()
            },
            "plan_lines[1]",
        ),
        (
            proto::DraftAgreementRequest {
                plan_lines: vec![1, 3],
                ..by_hand()
            },
            "plan_lines[1]",
        ),
        (
            proto::DraftAgreementRequest {
                outcomes: "  ".into(),
                ..by_hand()
            },
            "outcomes",
        ),
        (
            proto::DraftAgreementRequest {
                outcomes: long.clone(),
                ..by_hand()
            },
            "outcomes",
        ),
        (
            proto::DraftAgreementRequest {
                representative: representative("", "parent"),
                ..by_hand()
            },
            "representative.name",
        ),
        (
            proto::DraftAgreementRequest {
                representative: representative("Ann Innes", "themselves"),
                ..by_hand()
            },
            "representative.capacity",
        ),
        (
            proto::DraftAgreementRequest {
                representative: representative("Ann Innes", "cousin"),
                ..by_hand()
            },
            "representative.capacity",
        ),
    ];
    for (request, field) in drafts {
        assert_invalid(app.draft(&staff, request).await, field);
    }
    assert_eq!(app.agreement_rows().await, (0, 0, 0, 0));

    let drafted = app.draft(&staff, by_hand()).await.unwrap();
    let written = app.agreement_rows().await;
    let update = |id: &str| proto::UpdateAgreementDraftRequest {
        agreement_id: id.into(),
        outcomes: String::new(),
        representative: None,
        no_representative: false,
    };
    let updates: Vec<(proto::UpdateAgreementDraftRequest, &str)> = vec![
        (update("nope"), "agreement_id"),
        (update(&drafted.id), "outcomes"),
        (
            proto::UpdateAgreementDraftRequest {
                outcomes: long,
                ..update(&drafted.id)
            },
            "outcomes",
        ),
        (
            proto::UpdateAgreementDraftRequest {
                representative: representative("Ann Innes", "parent"),
                no_representative: true,
                ..update(&drafted.id)
            },
            "no_representative",
        ),
        (
            proto::UpdateAgreementDraftRequest {
                representative: representative("Ann Innes", "themselves"),
                ..update(&drafted.id)
            },
            "representative.capacity",
        ),
    ];
    for (request, field) in updates {
        assert_invalid(
            app.client()
                .update_agreement_draft(bearer(&staff, request))
                .await,
            field,
        );
    }

    assert_invalid(app.get(&staff, "nope").await, "agreement_id");

    let list = |authority: &str, person_id: &str, page_size: u32, page_token: &str| {
        proto::ListAgreementsRequest {
            authority: authority.into(),
            person_id: person_id.into(),
            page: Some(proto::PageRequest {
                page_size,
                page_token: page_token.into(),
            }),
        }
    };
    for (request, field) in [
        (list("Fife!", "", 0, ""), "authority"),
        (list("fife", "someone", 0, ""), "person_id"),
        (list("fife", "", 201, ""), "page.page_size"),
        (list("fife", "", 0, "made-up"), "page.page_token"),
    ] {
        assert_invalid(app.list(&staff, request).await, field);
    }

    let sign = |id: &str, version: u32, capacity: &str| proto::SignAgreementRequest {
        agreement_id: id.into(),
        version,
        capacity: capacity_number(capacity),
    };
    for (token, request, field) in [
        (person(PERSON_ID), sign("nope", 1, ""), "agreement_id"),
        (person(PERSON_ID), sign(&drafted.id, 0, ""), "version"),
        (
            person(PERSON_ID),
            sign(&drafted.id, u32::MAX, ""),
            "version",
        ),
        (person(PERSON_ID), sign(&drafted.id, 1 << 31, ""), "version"),
        (
            person(PERSON_ID),
            sign(&drafted.id, 1, "cousin"),
            "capacity",
        ),
        (
            person(PERSON_ID),
            sign(&drafted.id, 1, "themselves"),
            "capacity",
        ),
        (
            provider(PROVIDER_ID),
            sign(&drafted.id, 1, "parent"),
            "capacity",
        ),
    ] {
        assert_invalid(
            app.client().sign_agreement(bearer(&token, request)).await,
            field,
        );
    }
    assert_eq!(app.agreement_rows().await, written, "nothing written");
    assert_eq!(
        app.get(&staff, &drafted.id).await.unwrap(),
        drafted,
        "the draft is as it was"
    );
}
