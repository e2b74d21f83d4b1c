//! The upload of a CSV of delivery: the same file `sds payments actuals FILE` sends, read by
//! the same reader (`sds_vocabulary::delivery_csv`) and sent to the same ImportActuals as
//! the provider, so the portal accepts exactly the rows the gRPC import accepts. Payments
//! judges every cell; the page says, row by row, which rows were not recorded and why.

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_vocabulary::delivery_csv::{self, NotDelivery};

use super::WebState;
use super::access::{provider_of, signed_in, viewer};
use super::actuals::recorded_words;
use super::calls::{CallError, Services, as_caller};
use super::dashboard::{Feedback, render};
use super::html::escape;
use super::respond::{call_failed, form_expired, too_large};
use super::session::{Session, csrf_matches};

/// The rows payments takes in one request; a larger file is refused before anything is
/// sent, so a provider never has half a file recorded without knowing which half.
const MAX_ROWS: usize = 5_000;

/// The form's two fields, as the browser sent them.
#[derive(Debug, Default)]
struct Upload {
    csrf: String,
    file: Option<Vec<u8>>,
}

async fn read_form(mut multipart: Multipart) -> Result<Upload, StatusCode> {
    let mut upload = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(error.status()),
        };
        match field.name() {
            Some("csrf") => upload.csrf = field.text().await.map_err(|error| error.status())?,
            Some("file") => {
                let bytes = field.bytes().await.map_err(|error| error.status())?;
                // A file input left empty still sends the field, with no bytes.
                if !bytes.is_empty() {
                    upload.file = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /portal/provider/actuals/upload`: reads the file, sends its rows to payments as
/// the provider, and shows the dashboard with what was recorded and every row that was not.
pub async fn upload(
    State(state): State<WebState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let form = read_form(multipart).await;
    // The CSRF token is checked before anything in the form is acted on; a form that
    // cannot be read at all carries none.
    let form = match form {
        Ok(form) if csrf_matches(&headers, &form.csrf) => form,
        // Too large to read to its end: the CSRF token may be in what was not read.
        Err(StatusCode::PAYLOAD_TOO_LARGE) => return too_large(Some(&viewer(&session))),
        _ => return form_expired(Some(&viewer(&session))),
    };
    let provider = match provider_of(&session) {
        Ok(provider) => provider,
        Err(refused) => return refused,
    };
    let problem = |text: String| {
        let state = state.clone();
        let session = session.clone();
        async move {
            render(
                &state,
                &session,
                provider,
                Feedback::Problem(&text),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let Some(bytes) = form.file else {
        return problem("Choose a CSV file to upload, then press Upload the file.".to_owned())
            .await;
    };
    let rows = match delivery_csv::read(&bytes) {
        Ok(reports) => reports.into_iter().flatten().collect::<Vec<_>>(),
        Err(NotDelivery::Shape(reason)) => {
            return problem(format!(
                "Nothing was recorded: that file is not a CSV of delivery ({reason}). Its first row must name the columns agreement_id, period_start, plan_line and amount (or hours)."
            ))
            .await;
        }
        Err(NotDelivery::Row { line, reason }) => {
            return problem(format!(
                "Nothing was recorded: line {line} of the file cannot be read ({reason})."
            ))
            .await;
        }
    };
    if rows.is_empty() {
        return problem(
            "Nothing was recorded: the file has no rows under its first row.".to_owned(),
        )
        .await;
    }
    if rows.len() > MAX_ROWS {
        return problem(format!(
            "Nothing was recorded: the file has {} rows. Upload at most {MAX_ROWS} rows at a time.",
            rows.len()
        ))
        .await;
    }
    let request = proto::ImportActualsRequest {
        rows: rows
            .into_iter()
            .map(|row| proto::ActualsRow {
                source_line: u64::from(row.source_line),
                agreement_id: row.agreement_id,
                period_start: row.period_start,
                plan_line: row.plan_line,
                amount: row.amount,
                hours: row.hours,
            })
            .collect(),
    };
    let row_count = request.rows.len();
    match send(&state.services, &session, request).await {
        Ok(imported) => {
            let outcome = outcome_html(row_count, &imported);
            render(
                &state,
                &session,
                provider,
                Feedback::Outcome(&outcome),
                StatusCode::OK,
            )
            .await
        }
        Err(error) if error.is_the_callers_to_fix() => {
            problem(format!("Nothing was recorded: {}", error.message())).await
        }
        Err(error) => call_failed(
            Some(&viewer(&session)),
            &error,
            "send a provider's file of actuals to payments",
        ),
    }
}

async fn send(
    services: &Services,
    session: &Session,
    request: proto::ImportActualsRequest,
) -> Result<proto::ImportActualsResponse, CallError> {
    let mut payments = PaymentsServiceClient::new(Services::channel(&services.payments)?);
    payments
        .import_actuals(as_caller(&session.token, request)?)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| CallError::refused("payments", status))
}

/// What the upload did, as HTML of escaped values: a summary, the reports recorded, and a
/// table of the rows that were not, by their line in the file.
fn outcome_html(rows: usize, imported: &proto::ImportActualsResponse) -> String {
    let rejected = imported.rejections.len();
    let reports = imported.recorded.len();
    let plural = |count: usize, one: &str, many: &str| {
        if count == 1 {
            format!("1 {one}")
        } else {
            format!("{count} {many}")
        }
    };
    let mut html = format!(
        "<div class=\"{class}\" role=\"{role}\" aria-labelledby=\"upload-result\">\n\
         <h2 id=\"upload-result\">What your file recorded</h2>\n\
         <p>Your file had {rows}. We recorded {reports}.{rest}</p>\n",
        class = if rejected == 0 { "notice" } else { "error" },
        role = if rejected == 0 { "status" } else { "alert" },
        rows = plural(rows, "row", "rows"),
        reports = plural(reports, "report", "reports"),
        rest = if rejected == 0 {
            String::new()
        } else {
            format!(
                " {} not recorded. The table says why. Correct them and upload those rows again.",
                if rejected == 1 {
                    "1 row was".to_owned()
                } else {
                    format!("{rejected} rows were")
                }
            )
        },
    );
    if !imported.recorded.is_empty() {
        html.push_str("<ul>\n");
        for report in &imported.recorded {
            html.push_str(&format!("<li>{}</li>\n", escape(&recorded_words(report))));
        }
        html.push_str("</ul>\n");
    }
    if rejected > 0 {
        html.push_str(
            "<table>\n<caption>Rows not recorded</caption>\n<thead><tr>\
             <th scope=\"col\">Line of the file</th><th scope=\"col\">Why</th></tr></thead>\n<tbody>\n",
        );
        for rejection in &imported.rejections {
            html.push_str(&format!(
                "<tr><th scope=\"row\">{line}</th><td>{why}</td></tr>\n",
                line = rejection.line,
                why = escape(&plain_reason(&rejection.reason)),
            ));
        }
        html.push_str("</tbody>\n</table>\n");
    }
    html.push_str("</div>\n");
    html
}

/// A rejection in words: payments names the CSV column (`amount: "x" is not an amount`),
/// which the page names as the file's column.
fn plain_reason(reason: &str) -> String {
    for column in [
        "agreement_id",
        "period_start",
        "plan_line",
        "amount",
        "hours",
    ] {
        if let Some(rest) = reason.strip_prefix(&format!("{column}: ")) {
            return format!("In the {column} column: {rest}");
        }
    }
    let mut words = reason.to_owned();
    if let Some(first) = words.get(..1) {
        words.replace_range(..1, &first.to_uppercase());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_name_the_files_column_and_read_as_sentences() {
        assert_eq!(
            plain_reason("amount: \"x\" is not an amount"),
            "In the amount column: \"x\" is not an amount"
        );
        assert_eq!(
            plain_reason("not recorded: line 3 of the same report was rejected"),
            "Not recorded: line 3 of the same report was rejected"
        );
    }

    #[test]
    fn the_outcome_counts_rows_and_reports_and_lists_each_rejected_line() {
        let html = outcome_html(
            3,
            &proto::ImportActualsResponse {
                recorded: vec![proto::ActualsReport::default()],
                rejections: vec![proto::ActualsRejection {
                    line: 4,
                    reason: "amount: \"<b>\" is not an amount".into(),
                }],
            },
        );
        assert!(
            html.contains("Your file had 3 rows. We recorded 1 report. 1 row was not recorded."),
            "{html}"
        );
        assert!(html.contains("<th scope=\"row\">4</th>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }
}
