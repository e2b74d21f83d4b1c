//! `GetAgreementSummary`: an agreement in plain language, as text and HTML with its word
//! count and reading ease: the version in force today (before the agreement starts, the one
//! in force on its first day; while a draft, its latest), so a rate change agreed for a
//! later date is not told as today's money. Read access is GetAgreement's, so a caller who may not see the
//! agreement is told it does not exist here too, and each read leaves its entry in the read
//! audit trail as GetAgreement's does ([`super::reads`]).

use rust_decimal::{Decimal, RoundingStrategy};
use sds_platform::read_audit;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sqlx::PgPool;

use crate::domain::agreement_summary::summary_facts;
use crate::domain::rate_following::in_force_on;
use crate::domain::readability::{reading_ease_milli, word_count};
use crate::domain::summary::{summary_html, summary_text};
use crate::error::ContractsError;
use crate::store;

use super::reads::{self, GET_AGREEMENT_SUMMARY};

pub(super) async fn get(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::GetAgreementSummaryRequest,
) -> Result<proto::AgreementSummary, ContractsError> {
    let id = super::convert::id("agreement_id", &request.agreement_id)?;
    let mut transaction = pool.begin().await?;
    let (record, entry) = match reads::readable(
        &mut transaction,
        clock,
        principal,
        id,
        GET_AGREEMENT_SUMMARY,
    )
    .await?
    {
        Ok(readable) => readable,
        Err(refused) => {
            transaction.commit().await?;
            return Err(refused);
        }
    };
    let connection: &mut sqlx::PgConnection = &mut transaction;
    // The version's lines were checked on the way in, so their sum and fee fit; failing
    // here would be a stored version no drafting could have made.
    let versions = store::load_versions(connection, id).await?;
    // Before the agreement starts, what will be in force on its first day.
    let on = clock.today().max(record.latest.content.terms.start());
    let told = in_force_on(&versions, on).unwrap_or(&record.latest);
    let mut facts = summary_facts(record.holding_model, told)
        .map_err(|error| anyhow::anyhow!("agreement {id}: the week's money: {error}"))?;
    // Once notice is given (or the plan ends) the agreement ends on its last day of
    // support, whatever the terms said.
    if let Some((last_day, _)) = record.ended {
        facts.end = Some(facts.end.map_or(last_day, |end| end.min(last_day)));
    }
    let text = summary_text(&facts);
    read_audit::read(connection, clock, principal, &entry).await?;
    transaction.commit().await?;
    Ok(proto::AgreementSummary {
        agreement_id: record.id.to_string(),
        version: told.version,
        html: summary_html(&facts),
        words: u32::try_from(word_count(&text)).unwrap_or(u32::MAX),
        reading_ease: reading_ease_milli(&text)
            .map(one_decimal_place)
            .unwrap_or_default(),
        text,
    })
}

/// Thousandths of a point as "78.4", rounded half away from zero as the score itself is.
fn one_decimal_place(milli: i64) -> String {
    Decimal::new(milli, 3)
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::one_decimal_place;

    #[test]
    fn reading_ease_shows_one_decimal_place() {
        assert_eq!(one_decimal_place(78_449), "78.4");
        assert_eq!(one_decimal_place(78_450), "78.5");
        assert_eq!(one_decimal_place(70_000), "70.0");
        assert_eq!(one_decimal_place(-12_350), "-12.4");
    }
}
