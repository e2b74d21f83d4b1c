//! `RunPayments`: the request checked and authorised, then the run started in a task of its
//! own, so that it carries on to its end when the caller goes away. A caller that lost its
//! connection reads the run's outcome from the instalments (`GetSchedule`) or runs the same
//! date again: while the run goes on that is refused as in progress; after it, a new run
//! pays whatever is left (nothing, if the first run finished).

use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::{AuthorityId, shown};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::error::PaymentsError;
use crate::runs::{self, RunRequest};

use super::PaymentsApi;

/// Progress messages buffered for a slow reader; the run waits for it beyond that.
const PROGRESS_BUFFER: usize = 64;

pub type RunStream = ReceiverStream<Result<proto::RunProgress, Status>>;

/// How far ahead of today a run may pay: a month, as an authority paying in advance of its
/// period starts needs; a mistyped year is refused rather than paying a year early.
pub const MAX_DAYS_AHEAD: u64 = 31;

/// How far back a run date may be.
pub const MAX_DAYS_BACK: u64 = 366;

fn request_of(
    principal: &Principal,
    today: chrono::NaiveDate,
    request: &proto::RunPaymentsRequest,
) -> Result<RunRequest, PaymentsError> {
    let authority = AuthorityId::parse("authority", &request.authority)
        .map_err(|invalid| PaymentsError::InvalidInput(invalid.to_string()))?;
    let text = request
        .run_date
        .as_ref()
        .map(|date| date.iso.as_str())
        .filter(|iso| !iso.is_empty())
        .ok_or_else(|| {
            PaymentsError::InvalidInput(
                "run_date: missing; give the day to pay up to as YYYY-MM-DD".to_owned(),
            )
        })?;
    let run_date = parse_iso_date(text).ok_or_else(|| {
        PaymentsError::InvalidInput(format!(
            "run_date: {} is not a date; expected YYYY-MM-DD",
            shown(text)
        ))
    })?;
    let latest = today
        .checked_add_days(chrono::Days::new(MAX_DAYS_AHEAD))
        .unwrap_or(today);
    if run_date > latest {
        return Err(PaymentsError::InvalidInput(format!(
            "run_date: {run_date} is more than {MAX_DAYS_AHEAD} days after today ({today}); a run pays what falls due up to {latest} at most"
        )));
    }
    // A run pays everything due up to its date, so an old date pays nothing a run for today
    // would not; a date years back is a mistyped year.
    let earliest = today
        .checked_sub_days(chrono::Days::new(MAX_DAYS_BACK))
        .unwrap_or(today);
    if run_date < earliest {
        return Err(PaymentsError::InvalidInput(format!(
            "run_date: {run_date} is more than {MAX_DAYS_BACK} days before today ({today}); run for today to pay everything due up to it"
        )));
    }
    let finance = principal.org_kind == OrgKind::Authority
        && principal.may_act_for(&authority)
        && principal.has_role(Role::Finance);
    if !finance {
        return Err(PaymentsError::NotAllowed(format!(
            "payments of {authority} are run by its finance staff"
        )));
    }
    Ok(RunRequest {
        authority,
        run_date,
        requested_by: principal.org_id.clone(),
        today,
    })
}

pub fn start(
    api: &PaymentsApi,
    principal: &Principal,
    request: &proto::RunPaymentsRequest,
) -> Result<RunStream, PaymentsError> {
    let request = request_of(principal, api.clock.today(), request)?;
    let (sender, receiver) = mpsc::channel(PROGRESS_BUFFER);
    let (progress, mut reports) = mpsc::channel::<proto::RunProgress>(PROGRESS_BUFFER);
    let forward = sender.clone();
    tokio::spawn(async move {
        while let Some(report) = reports.recv().await {
            // The caller may have gone; the run goes on.
            let _ = forward.send(Ok(report)).await;
        }
    });
    let pool = api.pool.clone();
    let ledger = api.ledger.clone();
    let outbox = api.outbox.clone();
    let exports = api.exports.clone();
    let sharing = api.sharing.clone();
    tokio::spawn(async move {
        let outcome = runs::run(
            &pool, &ledger, &outbox, &exports, &sharing, &request, &progress,
        )
        .await;
        drop(progress);
        let last = match outcome {
            Ok(summary) => Ok(proto::RunProgress {
                run_id: summary.run_id.clone(),
                phase: proto::RunPhase::Completed as i32,
                done: summary.instalments,
                total: summary.instalments,
                completed: Some(summary),
            }),
            Err(error) => {
                tracing::warn!(authority = %request.authority, %error, "payment run stopped");
                Err(Status::from(error))
            }
        };
        let _ = sender.send(last).await;
    });
    Ok(ReceiverStream::new(receiver))
}
