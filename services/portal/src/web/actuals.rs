//! Reporting what the provider delivered, for agreements paid on actuals: a form for one
//! agreement and period (payments' ReportActuals) and the upload of a CSV of delivery
//! ([`super::actuals_upload`]). Both go to payments as the provider itself, so payments
//! applies its own rules: which agreements the provider may report on, which periods have
//! ended, what an amount or hours may be.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;

use super::WebState;
use super::access::{provider_of, signed_in, viewer};
use super::calls::{CallError, Services, as_caller};
use super::dashboard::{Feedback, render};
use super::html::escape;
use super::notices::short_text;
use super::packages::{Package, paid_on_actuals, support_words};
use super::respond::{call_failed, form_expired};
use super::session::{Session, csrf_matches};
use super::words::{iso_date, money_text};

/// The section with a report form for each package paid on actuals, and the upload form.
pub fn section(packages: &Result<Vec<Package>, ()>, csrf: &str) -> String {
    let mut html = String::from(
        "<section aria-labelledby=\"actuals\">\n<h2 id=\"actuals\">Report what you delivered</h2>\n\
         <p>For packages paid on what you deliver, tell the council what you delivered in each \
         period once it has ended. Leave a line blank to be paid as planned for it. Reporting a \
         period again corrects it.</p>\n",
    );
    let csrf = escape(csrf);
    match packages {
        Err(()) => html.push_str(
            "<p>We cannot show your packages just now, so the report form is not shown. You can still upload a file.</p>\n",
        ),
        Ok(packages) => {
            let on_actuals: Vec<&Package> = packages
                .iter()
                .filter(|package| paid_on_actuals(&package.agreement))
                .collect();
            if on_actuals.is_empty() {
                html.push_str("<p>None of your active packages is paid on what you deliver.</p>\n");
            }
            for package in on_actuals {
                html.push_str(&report_form(&package.agreement, &csrf));
            }
        }
    }
    html.push_str(&format!(
        "<form method=\"post\" action=\"/portal/provider/actuals/upload\" enctype=\"multipart/form-data\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <h3 id=\"upload\">Upload a file of what you delivered</h3>\n\
         <label for=\"actuals-file\">A CSV file</label>\n\
         <p class=\"hint\" id=\"actuals-file-hint\">The first row names the columns agreement_id, \
         period_start, plan_line and amount (or hours), in any order. Then one row for each plan \
         line and period, such as: 0190a0b0-1c2d-7e3f-8a9b-0c1d2e3f4a5b, 2026-10-01, 1, 240.00. \
         Rows of one agreement and period make one report. We record every report whose rows are \
         all right, and tell you which rows were not.</p>\n\
         <input type=\"file\" id=\"actuals-file\" name=\"file\" accept=\".csv,text/csv\" \
         aria-describedby=\"actuals-file-hint\" required>\n\
         <button type=\"submit\">Upload the file</button>\n</form>\n</section>\n"
    ));
    html
}

fn report_form(agreement: &proto::Agreement, csrf: &str) -> String {
    let id = escape(&agreement.id);
    let short = escape(&short_text(&agreement.id));
    let mut lines = String::new();
    for line in &agreement.lines {
        let number = line.plan_line;
        let kind = escape(&support_words(&line.support_type));
        let planned = escape(&money_text(
            &line
                .weekly
                .as_ref()
                .map(|weekly| weekly.amount.clone())
                .unwrap_or_default(),
        ));
        // A line agreed as hours a week is reported in hours; any other as an amount.
        let (field, label, hint) = if line.hours_per_week.is_empty() {
            (
                "amount",
                format!("Line {number}, {kind}: amount delivered in pounds"),
                format!("Planned at {planned} a week. For example 240.00"),
            )
        } else {
            (
                "hours",
                format!("Line {number}, {kind}: hours delivered"),
                format!(
                    "Planned at {} hours a week. For example 37.5",
                    escape(&line.hours_per_week)
                ),
            )
        };
        lines.push_str(&format!(
            "<label for=\"{field}-{id}-{number}\">{label}</label>\n\
             <p class=\"hint\" id=\"{field}-hint-{id}-{number}\">{hint}</p>\n\
             <input type=\"text\" inputmode=\"decimal\" id=\"{field}-{id}-{number}\" \
             name=\"{field}_{number}\" aria-describedby=\"{field}-hint-{id}-{number}\">\n"
        ));
    }
    format!(
        "<form method=\"post\" action=\"/portal/provider/actuals\" aria-labelledby=\"report-{id}\">\n\
         <h3 id=\"report-{id}\">Agreement {short}</h3>\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"agreement_id\" value=\"{id}\">\n\
         <label for=\"period-{id}\">First day of the period</label>\n\
         <input type=\"date\" id=\"period-{id}\" name=\"period_start\" required>\n\
         {lines}<button type=\"submit\">Send the report for agreement {short}</button>\n</form>\n"
    )
}

/// The report form as payments takes it, or what is wrong with it. Fields are
/// `amount_N` or `hours_N` for plan line N; blank ones are left out.
fn report_request(fields: &[(String, String)]) -> Result<proto::ReportActualsRequest, String> {
    let field = |name: &str| super::form_field(fields, name).to_owned();
    let mut request = proto::ReportActualsRequest {
        agreement_id: field("agreement_id"),
        period_start: Some(proto::Date {
            iso: field("period_start"),
        }),
        lines: Vec::new(),
    };
    if request.agreement_id.is_empty() {
        return Err("Choose the agreement you are reporting on.".to_owned());
    }
    if field("period_start").is_empty() {
        return Err("Enter the first day of the period you are reporting.".to_owned());
    }
    for (key, value) in fields {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let (kind, number) = match key.split_once('_') {
            Some((kind @ ("amount" | "hours"), number)) => (kind, number),
            _ => continue,
        };
        let Ok(plan_line) = number.parse::<u32>() else {
            continue;
        };
        let mut line = proto::ActualLine {
            plan_line,
            ..proto::ActualLine::default()
        };
        if kind == "amount" {
            line.amount = Some(proto::Money {
                amount: value.to_owned(),
            });
        } else {
            line.hours = value.to_owned();
        }
        request.lines.push(line);
    }
    if request.lines.is_empty() {
        return Err("Fill in what you delivered on at least one line.".to_owned());
    }
    Ok(request)
}

/// Payments' refusal of a report in plain words: `lines[i].amount: ...` names the line by
/// its plan line number.
fn plain_refusal(request: &proto::ReportActualsRequest, message: &str) -> String {
    if let Some(rest) = message.strip_prefix("lines[")
        && let Some((index, after)) = rest.split_once("].")
        && let Some(line) = index
            .parse::<usize>()
            .ok()
            .and_then(|index| request.lines.get(index))
    {
        return format!("Line {}: {after}", line.plan_line);
    }
    message.to_owned()
}

/// `POST /portal/provider/actuals`: sends the report as the provider, then shows the
/// dashboard with what payments recorded. Sending the same report again the same day
/// records nothing new, so reloading the answer is harmless.
pub async fn report(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if !csrf_matches(&headers, super::form_field(&fields, "csrf")) {
        return form_expired(Some(&viewer(&session)));
    }
    let provider = match provider_of(&session) {
        Ok(provider) => provider,
        Err(refused) => return refused,
    };
    let request = match report_request(&fields) {
        Ok(request) => request,
        Err(text) => {
            let text = format!("Your report was not sent: {text}");
            return render(
                &state,
                &session,
                provider,
                Feedback::Problem(&text),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match send(&state.services, &session, request.clone()).await {
        Ok(recorded) => {
            let done = recorded_words(&recorded);
            render(
                &state,
                &session,
                provider,
                Feedback::Done(Some(&done)),
                StatusCode::OK,
            )
            .await
        }
        Err(error) if error.is_the_callers_to_fix() => {
            let text = format!(
                "Your report was not recorded. {}",
                plain_refusal(&request, error.message())
            );
            render(
                &state,
                &session,
                provider,
                Feedback::Problem(&text),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => call_failed(
            Some(&viewer(&session)),
            &error,
            "send a provider's report of actuals to payments",
        ),
    }
}

async fn send(
    services: &Services,
    session: &Session,
    request: proto::ReportActualsRequest,
) -> Result<proto::ActualsReport, CallError> {
    let mut payments = PaymentsServiceClient::new(Services::channel(&services.payments)?);
    payments
        .report_actuals(as_caller(&session.token, request)?)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| CallError::refused("payments", status))
}

/// What payments recorded, in a sentence or two.
pub fn recorded_words(report: &proto::ActualsReport) -> String {
    let amount = |money: Option<&proto::Money>| {
        money_text(&money.map(|money| money.amount.clone()).unwrap_or_default())
    };
    let day = |date: Option<&proto::Date>| {
        iso_date(date.map(|date| date.iso.as_str()).unwrap_or_default())
    };
    let revision = if report.revision > 1 {
        format!(
            " This corrects your earlier report (revision {}).",
            report.revision
        )
    } else {
        String::new()
    };
    format!(
        "Your report for agreement {id}, {from} to {to}, is recorded. You reported {reported} against {planned} planned, and the period pays {total}.{revision}",
        id = short_text(&report.agreement_id),
        from = day(report.period_start.as_ref()),
        to = day(report.period_end.as_ref()),
        reported = amount(report.reported.as_ref()),
        planned = amount(report.planned.as_ref()),
        total = amount(report.total.as_ref()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn filled_lines_become_the_report_and_blank_ones_are_left_out() {
        let request = report_request(&fields(&[
            ("csrf", "x"),
            ("agreement_id", "a1"),
            ("period_start", "2026-10-01"),
            ("amount_1", " 240.00 "),
            ("amount_2", ""),
            ("hours_3", "37.5"),
        ]))
        .expect("a report");
        assert_eq!(request.lines.len(), 2);
        assert_eq!(request.lines[0].plan_line, 1);
        assert_eq!(request.lines[0].amount.as_ref().unwrap().amount, "240.00");
        assert_eq!(request.lines[1].plan_line, 3);
        assert_eq!(request.lines[1].hours, "37.5");
        assert_eq!(
            plain_refusal(&request, "lines[1].hours: \"x\" is not hours"),
            "Line 3: hours: \"x\" is not hours"
        );
    }

    #[test]
    fn a_report_without_a_period_or_any_line_is_refused_in_words() {
        let no_line = report_request(&fields(&[
            ("agreement_id", "a1"),
            ("period_start", "2026-10-01"),
            ("amount_1", " "),
        ]));
        assert_eq!(
            no_line.unwrap_err(),
            "Fill in what you delivered on at least one line."
        );
        let no_period = report_request(&fields(&[("agreement_id", "a1"), ("amount_1", "5")]));
        assert!(no_period.unwrap_err().contains("first day of the period"));
    }
}
