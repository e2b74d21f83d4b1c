//! The events stream's duplicate window bounds how long a relay may be away between
//! publishing a batch and marking it: back within the window, each event is in the stream
//! once; back after it, the stream keeps a second copy. Provisioning brings a stream made
//! with another window to the configured one. Windows are seconds here where production's
//! are an hour (and were 2 minutes), so the tests wait for real time to pass: time is what
//! they are about.

use std::time::Instant;

use crate::support::*;

/// The window an earlier deployment gave the stream, at test scale (it was 120 s).
const OLD_WINDOW: Duration = Duration::from_secs(1);
/// How long the dead relay stays away: longer than [`OLD_WINDOW`] with room for the
/// server's purge timer, far shorter than [`CONFIGURED_WINDOW`].
const AWAY: Duration = Duration::from_secs(3);
const CONFIGURED_WINDOW: Duration = Duration::from_secs(60);

fn relay_config(duplicate_window: Duration) -> RelayConfig {
    RelayConfig {
        duplicate_window,
        ..RelayConfig::default()
    }
}

/// Starts a relay with `duplicate_window` (which provisions the stream with it), lets it
/// publish `events` and die before marking them, as a killed process would, and returns
/// when it died.
async fn relay_dies_between_publishing_and_marking(
    sandbox: &Sandbox,
    duplicate_window: Duration,
    events: &[Uuid],
) -> Instant {
    die_at_first_mark(&sandbox.pool).await;
    let doomed = start_relay(
        sandbox,
        RelayConfig {
            // After the failed mark it would retry at once and be deduplicated within any
            // window; a killed relay never gets to.
            min_backoff: Duration::from_secs(3600),
            max_backoff: Duration::from_secs(3600),
            ..relay_config(duplicate_window)
        },
    );
    wait_until(DEADLINE, "the relay has published and died", || async {
        relay_has_died(&sandbox.pool).await.then_some(())
    })
    .await;
    doomed.task.abort();
    let _ = doomed.task.await;
    let died_at = Instant::now();
    assert_eq!(
        unpublished_rows(&sandbox.pool).await,
        i64::try_from(events.len()).unwrap()
    );
    assert_stream_holds_each_once(&sandbox.jetstream, events).await;
    died_at
}

async fn duplicate_window_of_the_stream(sandbox: &Sandbox) -> Duration {
    let mut stream = sandbox
        .jetstream
        .get_stream(EVENTS_STREAM)
        .await
        .expect("events stream");
    stream
        .info()
        .await
        .expect("stream info")
        .config
        .duplicate_window
}

#[tokio::test]
async fn a_relay_back_after_the_old_window_but_within_the_configured_one_leaves_each_event_once() {
    let sandbox = sandbox().await;
    // The stream as an earlier deployment left it.
    let mut stream_config = sandbox
        .jetstream
        .get_stream(EVENTS_STREAM)
        .await
        .expect("events stream")
        .info()
        .await
        .expect("stream info")
        .config
        .clone();
    stream_config.duplicate_window = OLD_WINDOW;
    sandbox
        .jetstream
        .update_stream(stream_config)
        .await
        .expect("give the stream the old window");
    let events = commit_events(&sandbox.pool, 5).await;
    let (mut observer, _observer_client) = count_raw_publishes(&sandbox.nats.url()).await;

    let died_at =
        relay_dies_between_publishing_and_marking(&sandbox, CONFIGURED_WINDOW, &events).await;
    assert_eq!(
        duplicate_window_of_the_stream(&sandbox).await,
        CONFIGURED_WINDOW,
        "the relay's start brought the existing stream to the configured window"
    );
    tokio::time::sleep_until((died_at + AWAY).into()).await;
    let successor = start_relay(&sandbox, relay_config(CONFIGURED_WINDOW));
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    assert_eq!(
        collect_publishes(&mut observer, 10).await.len(),
        10,
        "every event was published twice"
    );
    assert_stream_holds_each_once(&sandbox.jetstream, &events).await;
    successor.shut_down().await;
}

#[tokio::test]
async fn a_relay_back_after_the_window_leaves_a_second_copy_of_each_event_in_the_stream() {
    let sandbox = sandbox().await;
    let events = commit_events(&sandbox.pool, 5).await;

    let died_at = relay_dies_between_publishing_and_marking(&sandbox, OLD_WINDOW, &events).await;
    tokio::time::sleep_until((died_at + AWAY).into()).await;
    let successor = start_relay(&sandbox, relay_config(OLD_WINDOW));
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let contents = stream_contents(&sandbox.jetstream)
        .await
        .expect("read events stream");
    let mut copies: HashMap<String, usize> = HashMap::new();
    for (message_id, _event_id) in contents {
        *copies.entry(message_id).or_default() += 1;
    }
    let expected: HashMap<String, usize> = events.iter().map(|id| (id.to_string(), 2)).collect();
    assert_eq!(copies, expected, "copies of each event in the stream");
    successor.shut_down().await;
}
