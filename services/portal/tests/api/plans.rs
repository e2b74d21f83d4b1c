//! A plan variation reaches each provider and holder named on a line it affects, with that
//! party's own lines only.

use sds_proto::v1::{self as proto, SupportType};

use crate::support::*;

fn line(
    number: u32,
    weekly: &str,
    end: Option<&str>,
    arrangement: proto::arrangement::Arrangement,
) -> proto::PlanLine {
    proto::PlanLine {
        number,
        support_type: SupportType::PersonalCare as i32,
        weekly: weekly.to_owned(),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(arrangement),
        }),
        option: 2,
        start: date("2026-04-01"),
        end: end.and_then(date),
        ..proto::PlanLine::default()
    }
}

fn chosen(provider: &str, holder: &str) -> proto::arrangement::Arrangement {
    proto::arrangement::Arrangement::PersonDirected(proto::PersonDirected {
        provider: provider.to_owned(),
        holding_model: proto::FundHoldingModel::ThirdParty as i32,
        holder: holder.to_owned(),
    })
}

#[tokio::test]
async fn a_plan_variation_tells_each_provider_and_holder_of_its_own_lines_only() {
    let app = TestApp::spawn().await;
    let (deeside, other, holder_id, long_gone) = (new_id(), new_id(), new_id(), new_id());
    let person_id = new_id();
    let plan = proto::Plan {
        person_id: person_id.clone(),
        authority: AUTHORITY.into(),
        version: 3,
        previous_version: 2,
        effective_from: date("2026-11-18"),
        recorded_on: date("2026-11-28"),
        lines: vec![
            // Ended by this variation: its provider hears of it.
            line(
                1,
                "210.0000",
                Some("2026-11-17"),
                chosen(&deeside, &holder_id),
            ),
            line(2, "280.5000", None, chosen(&deeside, &holder_id)),
            line(3, "80.0000", None, chosen(&other, "")),
            // Over long before: history, not news.
            line(4, "50.0000", Some("2026-06-30"), chosen(&long_gone, "")),
        ],
        over_budget_reason: "agreed at the planning meeting with the family".into(),
        ..proto::Plan::default()
    };
    app.deliver(&event(
        AUTHORITY,
        &person_id,
        3,
        proto::event::Body::PlanVaried(proto::PlanVaried { plan: Some(plan) }),
    ))
    .await;

    let mut stream = app.subscribe(&provider(&deeside), "").await.unwrap();
    let told = next(&mut stream).await;
    let Some(proto::notification::Body::PlanVaried(varied)) = told.body else {
        panic!("not a plan variation: {told:?}");
    };
    assert_eq!((varied.version, varied.previous_version), (3, 2));
    assert_eq!(varied.effective_from, date("2026-11-18"));
    let lines: Vec<(u32, &str)> = varied
        .lines
        .iter()
        .map(|line| (line.number, line.weekly.as_str()))
        .collect();
    assert_eq!(lines, [(1, "210.0000"), (2, "280.5000")]);
    assert_eq!(varied.lines[0].end, date("2026-11-17"));
    assert_eq!(varied.lines[1].end, None);

    assert_eq!(app.kept_for(&holder_id).await, 1);
    assert_eq!(app.kept_for(&other).await, 1);
    assert_eq!(app.kept_for(&long_gone).await, 0);
    let with_reason: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification WHERE body::text LIKE '%planning meeting%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(with_reason, 0);
}
