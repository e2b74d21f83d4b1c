//! Funds: opened and closed by the authority's staff, read by whoever may see them. Reads
//! that give out a fund or its history (`GetFund`, `ListTransfers`, `GetStatement`) leave
//! their entry in the read audit trail ([`audited_fund`]).

use crate::domain::Watch;
use sds_platform::read_audit::{self, Outcome, Refusal, SubjectKind};
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sqlx::PgPool;
use tracing::info;
use uuid::Uuid;

use super::convert::{self, fund_message};
use super::{Writer, in_transaction};
use crate::domain::access::{ensure_may_add_payee, ensure_may_manage, may_read};
use crate::domain::{AccountState, Fund, MAX_PAYEES};
use crate::error::LedgerError;
use crate::posting::Actor;
use crate::posting::closing::{self, Closing};
use crate::store;

type FundWithAccounts = (Fund, Vec<(AccountState, Option<Uuid>)>);

/// The fund `id` if the caller may read it; otherwise it is not recorded, for them.
pub(super) async fn readable_fund(
    connection: &mut sqlx::PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<FundWithAccounts, LedgerError> {
    store::load_fund(connection, id)
        .await?
        .filter(|(fund, accounts)| {
            let payees: Vec<Uuid> = accounts.iter().filter_map(|(_, payee)| *payee).collect();
            may_read(principal, fund, &payees)
        })
        .ok_or(LedgerError::FundNotFound(id))
}

/// A fund the caller may read, with the entry its read is to leave in the read audit trail.
pub(super) type AuditedFund = (FundWithAccounts, read_audit::Record);

/// The fund `id` if the caller may read it, for a read (`what`) that leaves its entry in the
/// read audit trail (`sds_platform::read_audit`). A fund that exists but that the caller may
/// not read is not recorded, for them, and a `refused` entry (NOT_FOUND) under the fund's
/// authority is written in `connection`'s transaction and handed back, to be committed and
/// answered; an unknown fund writes nothing; an error of the outer result aborts the call.
pub(super) async fn audited_fund(
    connection: &mut sqlx::PgConnection,
    clock: &Clock,
    principal: &Principal,
    id: Uuid,
    what: &'static str,
) -> Result<Result<AuditedFund, LedgerError>, LedgerError> {
    let (fund, accounts) = store::load_fund(connection, id)
        .await?
        .ok_or(LedgerError::FundNotFound(id))?;
    let entry = read_audit::Record {
        authority: fund.authority.clone(),
        subject_kind: SubjectKind::Person,
        subject_id: fund.person_id,
        what,
        record_id: id.to_string(),
    };
    let payees: Vec<Uuid> = accounts.iter().filter_map(|(_, payee)| *payee).collect();
    if may_read(principal, &fund, &payees) {
        return Ok(Ok(((fund, accounts), entry)));
    }
    // Told it is not recorded, as for an unknown fund; the authority sees who tried.
    let refused = Outcome::Refused(Refusal::NotFound);
    read_audit::write(connection, clock, principal, &entry, refused).await?;
    Ok(Err(LedgerError::FundNotFound(id)))
}

pub(super) async fn open(
    writer: &Writer,
    clock: &Clock,
    principal: &Principal,
    request: &proto::OpenFundRequest,
) -> Result<proto::Fund, LedgerError> {
    let fund = convert::open_fund(request)?;
    ensure_may_manage(principal, &fund.authority)?;
    let today = clock.today();
    let (fund, accounts) = in_transaction!(writer, connection => async {
        if let Some((held, accounts)) = store::load_fund(connection, fund.id).await? {
            let payees: Vec<Uuid> = accounts.iter().filter_map(|(_, payee)| *payee).collect();
            if fund.is_same_as(&held, &payees) {
                return Ok((held, accounts));
            }
            return Err(LedgerError::FundIdUsed(fund.id));
        }
        if let Some(open) = open_fund_of(connection, &fund.authority, &fund.person_id, &fund.holder_id).await? {
            return Err(LedgerError::OpenFundExists(open));
        }
        store::insert_fund(connection, &fund, today, &principal.org_id).await?;
        store::load_fund(connection, fund.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("fund {} vanished after insert", fund.id).into())
    })?;
    info!(authority = %fund.authority, fund = %fund.id, "fund opened");
    Ok(fund_message(&fund, &accounts))
}

/// The person's open fund with the holder under the authority, if any.
async fn open_fund_of(
    connection: &mut sqlx::PgConnection,
    authority: &sds_vocabulary::AuthorityId,
    person: &Uuid,
    holder: &str,
) -> Result<Option<Uuid>, LedgerError> {
    use sds_platform::StoreContext as _;
    Ok(sqlx::query_scalar(
        "SELECT id FROM fund \
         WHERE authority = $1 AND person_id = $2 AND holder_id = $3 AND closed_on IS NULL",
    )
    .bind(authority.as_str())
    .bind(person)
    .bind(holder)
    .fetch_optional(&mut *connection)
    .await
    .operation("select open fund of person")?)
}

pub(super) async fn close(
    writer: &Writer,
    clock: &Clock,
    watch: Watch,
    principal: &Principal,
    request: &proto::CloseFundRequest,
) -> Result<proto::Fund, LedgerError> {
    let closing = Closing {
        fund_id: convert::required_id("fund_id", &request.fund_id)?,
        destination: convert::optional_id(
            "destination_account_id",
            &request.destination_account_id,
        )?,
        transfer_id: convert::optional_new_id("transfer_id", &request.transfer_id)?,
        note: convert::note("note", &request.note)?,
    };
    if closing.destination.is_some() != closing.transfer_id.is_some() {
        return Err(sds_vocabulary::Invalid::new(
            "transfer_id",
            "and destination_account_id are given together: the destination receives what is left by a transfer with this id",
        )
        .into());
    }
    let actor = Actor::new(principal, clock, watch);
    let (fund, accounts) = in_transaction!(writer, connection => async {
        let fund = closing::close(connection, &actor, &closing).await?;
        let (_, accounts) = store::load_fund(connection, fund.id)
            .await?
            .ok_or(LedgerError::FundNotFound(fund.id))?;
        Ok::<_, LedgerError>((fund, accounts))
    })?;
    info!(authority = %fund.authority, fund = %fund.id, "fund closed");
    Ok(fund_message(&fund, &accounts))
}

pub(super) async fn add_payee(
    writer: &Writer,
    principal: &Principal,
    request: &proto::AddPayeeRequest,
) -> Result<proto::Fund, LedgerError> {
    let fund_id = convert::required_id("fund_id", &request.fund_id)?;
    let payee = convert::someone_id("payee_id", &request.payee_id)?;
    let (fund, accounts) = in_transaction!(writer, connection => async {
        let (fund, accounts) = readable_fund(connection, principal, fund_id).await?;
        ensure_may_add_payee(principal, &fund, payee)?;
        if accounts.iter().any(|(_, paid)| *paid == Some(payee)) {
            return Ok((fund, accounts));
        }
        if fund.closed_on.is_some() {
            return Err(LedgerError::FundClosed(fund_id));
        }
        // Adds racing at the bound may each pass it: the bound keeps answers small, and is
        // not a sum to hold exactly.
        let payees = accounts.iter().filter(|(_, paid)| paid.is_some()).count();
        if payees >= MAX_PAYEES {
            return Err(LedgerError::TooManyPayees { fund: fund_id, max: MAX_PAYEES });
        }
        // A concurrent add of the same payee loses on the unique index and runs again.
        store::insert_payable(connection, fund_id, payee).await?;
        readable_fund(connection, principal, fund_id).await
    })?;
    info!(authority = %fund.authority, fund = %fund.id, "payee added");
    Ok(fund_message(&fund, &accounts))
}

/// What the read audit trail calls a fund's read.
const GET_FUND: &str = "ledger.GetFund";

/// `GetFund`: the fund goes out only with its `read` entry, written in the read's
/// transaction (see [`audited_fund`]).
pub(super) async fn get(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::GetFundRequest,
) -> Result<proto::Fund, LedgerError> {
    let id = convert::required_id("fund_id", &request.fund_id)?;
    let mut transaction = pool.begin().await?;
    let ((fund, accounts), entry) =
        match audited_fund(&mut transaction, clock, principal, id, GET_FUND).await? {
            Ok(readable) => readable,
            Err(refused) => {
                transaction.commit().await?;
                return Err(refused);
            }
        };
    read_audit::read(&mut transaction, clock, principal, &entry).await?;
    transaction.commit().await?;
    Ok(fund_message(&fund, &accounts))
}
