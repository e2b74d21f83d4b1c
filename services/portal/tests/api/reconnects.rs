//! A subscriber that disconnects at arbitrary points and resumes from the last notification
//! it received gets every notification exactly once, in order, while notifications keep
//! arriving: a property over where it disconnects and how many are published, on real
//! PostgreSQL and NATS (one process for every case, a fresh provider per case).

use proptest::prelude::*;

use crate::support::*;

fn check(
    runtime: &tokio::runtime::Runtime,
    app: &TestApp,
    stops: &[usize],
    total: usize,
) -> Result<(), TestCaseError> {
    runtime.block_on(async {
        let deeside = new_id();
        let token = provider(&deeside);
        // Published one after another by a task of its own, while the subscriber comes and
        // goes: some are kept before it connects, some arrive while it is away, some live.
        let publisher = {
            let events: Vec<_> = (0..total)
                .map(|index| remittance(&deeside, &format!("R{index:09}"), "10.00"))
                .collect();
            let nats_url = app.nats.url();
            tokio::spawn(async move {
                let jetstream =
                    async_nats::jetstream::new(async_nats::connect(nats_url).await.unwrap());
                for event in events {
                    publish_to(&jetstream, &event, None).await;
                }
            })
        };
        let mut received = Vec::with_capacity(total);
        let mut cursor = String::new();
        for take in stops.iter().copied().chain([total]) {
            let mut stream = app.subscribe(&token, &cursor).await.expect("subscribe");
            let wanted = take.min(total - received.len());
            for notification in next_n(&mut stream, wanted).await {
                cursor = notification.seq.to_string();
                received.push(notification);
            }
            // Gone without a word, as a closed laptop goes.
            drop(stream);
            if received.len() == total {
                break;
            }
        }
        publisher.await.expect("published");

        let expected: Vec<u64> = (1..=u64::try_from(total).unwrap()).collect();
        prop_assert_eq!(seqs(&received), expected);
        let mut numbers: Vec<&str> = received.iter().filter_map(remittance_number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        prop_assert_eq!(numbers.len(), total);
        Ok(())
    })
}

#[test]
fn a_subscriber_that_disconnects_at_random_points_and_resumes_receives_every_notification_exactly_once()
 {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let app = runtime.block_on(async {
        let app = TestApp::spawn().await;
        app.wait_for_the_events_stream().await;
        app
    });
    let config = ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        stops in proptest::collection::vec(0usize..7, 1..6),
        total in 5usize..25,
    )| {
        check(&runtime, &app, &stops, total)?;
    });
}
