//! Numbering notifications under concurrency: a consumer applies the events already waiting
//! in one transaction, so two transactions may each number notifications for the same two
//! subscribers in opposite orders. They must queue, not deadlock (PostgreSQL breaks a
//! deadlock only after a second and the aborted event waits for its retry), and every
//! subscriber's numbers must still run 1, 2, ... in commit order. Found by `sds simulate
//! --seed 42 --funds 10000 --days 365`, where it stalled the run a second at a time.

use std::time::Duration;

use chrono::Utc;
use sds_portal::domain::notice::RequestClosed;
use sds_portal::domain::recipients::Deliveries;
use sds_portal::domain::{Notice, Subscriber};
use sds_portal::store::{self, Origin};
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use crate::support::{AUTHORITY, TestApp};

fn closed_for(subscriber: Subscriber) -> Deliveries {
    let mut deliveries = Deliveries::new();
    deliveries.tell(
        subscriber,
        Notice::RequestClosed(RequestClosed {
            request_id: Uuid::new_v4(),
        }),
    );
    deliveries
}

fn origin() -> Origin {
    Origin {
        event_id: Uuid::new_v4(),
        authority: AuthorityId::parse("authority", AUTHORITY).unwrap(),
        occurred_at: Utc::now(),
    }
}

async fn seqs_of(app: &TestApp, subscriber: Subscriber) -> Vec<i64> {
    sqlx::query_scalar("SELECT seq FROM notification WHERE subscriber_id = $1 ORDER BY seq")
        .bind(subscriber.id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_transactions_numbering_two_subscribers_in_opposite_orders_queue_instead_of_deadlocking()
 {
    let app = TestApp::spawn().await;
    let first = Subscriber::provider(Uuid::new_v4());
    let second = Subscriber::provider(Uuid::new_v4());

    let mut one = app.pool.begin().await.unwrap();
    store::deliver(&mut one, &origin(), &closed_for(first))
        .await
        .unwrap();

    // The other transaction starts with the second subscriber: it waits for the first
    // transaction as a whole, not only for the rows it has locked.
    let pool = app.pool.clone();
    let other = tokio::spawn(async move {
        let mut two = pool.begin().await.unwrap();
        store::deliver(&mut two, &origin(), &closed_for(second)).await?;
        store::deliver(&mut two, &origin(), &closed_for(first)).await?;
        two.commit()
            .await
            .map_err(|source| sds_platform::StoreError {
                operation: "commit",
                source,
            })
    });
    // Only once the second transaction is waiting on a lock can the first one's next step
    // close a cycle; before that the test would show nothing.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            !other.is_finished(),
            "the second transaction numbered a notification while the first was still open"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the second transaction never waited for the first"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Without the queue PostgreSQL finds a deadlock here and aborts one of the two: that
    // abort is what fails this test, not how long the wait took (a loaded CI machine can
    // take over a second to let the second transaction in).
    store::deliver(&mut one, &origin(), &closed_for(second))
        .await
        .unwrap();
    one.commit().await.unwrap();
    other
        .await
        .unwrap()
        .expect("the second transaction commits after the first, without a deadlock");
    assert_eq!(seqs_of(&app, first).await, vec![1, 2]);
    assert_eq!(seqs_of(&app, second).await, vec![1, 2]);
}
