//! Resuming: a subscriber that was away receives what it missed, in order and once, and
//! then what happens live, with nothing lost or repeated at the switch.

use sds_proto::v1 as proto;

use crate::support::*;

#[tokio::test]
async fn notifications_kept_while_offline_arrive_in_order_exactly_once_on_resume_then_live_ones_follow()
 {
    let app = TestApp::spawn().await;
    let deeside = new_id();
    let token = provider(&deeside);
    for number in ["R000000001", "R000000002", "R000000003"] {
        app.deliver(&remittance(&deeside, number, "1312.50")).await;
    }

    // First connection: everything kept, oldest first, numbered from 1.
    let mut stream = app.subscribe(&token, "").await.unwrap();
    let first = next_n(&mut stream, 3).await;
    assert_eq!(seqs(&first), [1, 2, 3]);
    assert_eq!(
        first
            .iter()
            .filter_map(remittance_number)
            .collect::<Vec<_>>(),
        ["R000000001", "R000000002", "R000000003"]
    );
    let issued = &first[0];
    assert_eq!(
        issued.kind,
        proto::NotificationKind::RemittanceIssued as i32
    );
    assert_eq!(issued.authority, AUTHORITY);
    assert!(issued.occurred_at.ends_with('Z'), "{}", issued.occurred_at);
    match &issued.body {
        Some(proto::notification::Body::RemittanceIssued(body)) => {
            assert_eq!(body.total.as_ref().unwrap().amount, "1312.50");
            assert_eq!(body.items, 3);
            assert_eq!(body.run_date.as_ref().unwrap().iso, "2026-11-30");
        }
        other => panic!("not a remittance: {other:?}"),
    }
    // The portal goes offline having seen up to 2 (say it crashed before showing 3).
    drop(stream);
    for number in ["R000000004", "R000000005"] {
        app.deliver(&remittance(&deeside, number, "80.00")).await;
    }

    let mut resumed = app.subscribe(&token, "2").await.unwrap();
    let missed = next_n(&mut resumed, 3).await;
    assert_eq!(seqs(&missed), [3, 4, 5]);
    assert_eq!(
        missed
            .iter()
            .filter_map(remittance_number)
            .collect::<Vec<_>>(),
        ["R000000003", "R000000004", "R000000005"]
    );
    // Live: published while the stream is open, and the very next message, so nothing was
    // sent twice in between.
    app.publish(&remittance(&deeside, "R000000006", "80.00"), None)
        .await;
    let live = next(&mut resumed).await;
    assert_eq!(live.seq, 6);
    assert_eq!(remittance_number(&live), Some("R000000006"));
}

#[tokio::test]
async fn notifications_committed_while_a_stream_catches_up_are_each_sent_once_with_no_gap() {
    let app = TestApp::spawn().await;
    let deeside = new_id();
    let kept_before = 5;
    for index in 0..kept_before {
        app.deliver(&remittance(&deeside, &format!("R1{index:08}"), "10.00"))
            .await;
    }
    let mut stream = app.subscribe(&provider(&deeside), "").await.unwrap();
    // These land while the stream is sending what was kept, and after.
    let published_live = 25;
    for index in 0..published_live {
        app.publish(
            &remittance(&deeside, &format!("R2{index:08}"), "10.00"),
            None,
        )
        .await;
    }

    let received = next_n(&mut stream, kept_before + published_live).await;
    let expected: Vec<u64> = (1..=u64::try_from(kept_before + published_live).unwrap()).collect();
    assert_eq!(seqs(&received), expected);
    let mut numbers: Vec<&str> = received.iter().filter_map(remittance_number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), kept_before + published_live);
    // The stream then waits for the next one rather than repeating any.
    app.publish(&remittance(&deeside, "R300000000", "10.00"), None)
        .await;
    let next_one = next(&mut stream).await;
    assert_eq!(next_one.seq, 31);
    assert_eq!(remittance_number(&next_one), Some("R300000000"));
}

#[tokio::test]
async fn an_event_delivered_twice_is_kept_and_sent_once() {
    let app = TestApp::spawn().await;
    let deeside = new_id();
    let paid = remittance(&deeside, "R000000042", "99.99");
    // Past JetStream's duplicate window (another message id): only the inbox stops it.
    app.publish(&paid, Some("delivered-again")).await;
    app.deliver(&paid).await;
    app.deliver(&remittance(&deeside, "R000000043", "1.00"))
        .await;

    let mut stream = app.subscribe(&provider(&deeside), "").await.unwrap();
    let received = next_n(&mut stream, 2).await;
    assert_eq!(
        received
            .iter()
            .filter_map(remittance_number)
            .collect::<Vec<_>>(),
        ["R000000042", "R000000043"]
    );
    assert_eq!(app.kept_for(&deeside).await, 2);
}
