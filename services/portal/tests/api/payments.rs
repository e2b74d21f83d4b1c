//! Schedule changes and remittances reach the payee, with the amounts to the penny.

use sds_proto::v1::{self as proto, PayeeKind, ScheduleChangeKind};

use crate::support::*;

fn schedule_changed(agreement_id: &str, payee_kind: PayeeKind, payee_id: &str) -> proto::Event {
    event(
        AUTHORITY,
        agreement_id,
        2,
        proto::event::Body::ScheduleChanged(proto::ScheduleChanged {
            agreement_id: agreement_id.to_owned(),
            person_id: new_id(),
            payee_kind: payee_kind as i32,
            payee_id: payee_id.to_owned(),
            change: ScheduleChangeKind::Varied as i32,
            agreement_version: 2,
            effective_from: date("2026-11-02"),
            recorded_on: date("2026-11-28"),
            weekly_before: money("210.00"),
            weekly_after: money("280.10"),
            adjustment: money("280.40"),
            next_due_date: date("2026-12-07"),
            next_amount: money("1400.80"),
        }),
    )
}

#[tokio::test]
async fn a_schedule_change_tells_the_payee_what_it_is_paid_next_and_when() {
    let app = TestApp::spawn().await;
    let (deeside, agreement_id) = (new_id(), new_id());
    let mut stream = app.subscribe(&provider(&deeside), "").await.unwrap();
    app.deliver(&schedule_changed(
        &agreement_id,
        PayeeKind::Provider,
        &deeside,
    ))
    .await;

    let told = next(&mut stream).await;
    assert_eq!(told.kind, proto::NotificationKind::ScheduleChanged as i32);
    let Some(proto::notification::Body::ScheduleChanged(changed)) = told.body else {
        panic!("not a schedule change: {told:?}");
    };
    assert_eq!(changed.agreement_id, agreement_id);
    assert_eq!(changed.change, ScheduleChangeKind::Varied as i32);
    assert_eq!(changed.weekly_before, money("210.00"));
    assert_eq!(changed.weekly_after, money("280.10"));
    assert_eq!(changed.adjustment, money("280.40"));
    assert_eq!(changed.next_due_date, date("2026-12-07"));
    assert_eq!(changed.next_amount, money("1400.80"));
}

#[tokio::test]
async fn a_schedule_paying_a_holder_is_not_shown_to_the_provider_since_it_can_reveal_the_contribution()
 {
    let app = TestApp::spawn().await;
    let (deeside, holder_id, agreement_id) = (new_id(), new_id(), new_id());
    let mut provider_stream = app.subscribe(&provider(&deeside), "").await.unwrap();
    app.deliver(&schedule_changed(
        &agreement_id,
        PayeeKind::Holder,
        &holder_id,
    ))
    .await;
    assert_eq!(app.kept_for(&holder_id).await, 1);
    // The provider's next notification is its own remittance, not the holder's schedule.
    app.publish(&remittance(&deeside, "R000000009", "10.00"), None)
        .await;
    let own = next(&mut provider_stream).await;
    assert_eq!((own.seq, remittance_number(&own)), (1, Some("R000000009")));
}
