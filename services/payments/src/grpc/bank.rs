//! `SetPayeeBankAccount` and `GetPayeeBankAccount`: payees' bank details, entered and read
//! by the authority's finance staff only. Nothing here logs a sort code, an account number
//! or a name: the log line of a change says which payee and which version.
//!
//! What must stay true of reads: an account goes out only with its `read` entry in the read
//! audit trail (`sds_platform::read_audit`), written in the read's transaction; a caller who
//! is not the authority's finance staff is refused (PERMISSION_DENIED) whether or not an
//! account is recorded, and when one is, a `refused` entry under that authority is committed
//! first, so the authority sees who tried; a payee without an account, or a bad argument,
//! writes nothing.

use sds_platform::StoreContext as _;
use sds_platform::read_audit::{self, Outcome, Refusal, SubjectKind};
use sds_platform::{Clock, OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::{AuthorityId, shown};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::bank_account::{self, BankDetails, Modulus};
use crate::domain::modulus::ModulusTable;
use crate::error::PaymentsError;
use crate::store::bank::{self as store, PayeeAccount};

/// What the read audit trail calls a read of a payee's bank account.
const GET_PAYEE_BANK_ACCOUNT: &str = "payments.GetPayeeBankAccount";

/// The modulus table as the process found it at start.
#[derive(Debug)]
pub enum ModulusSource {
    /// The operator supplied none: details are recorded unchecked, and say so.
    None,
    Loaded(ModulusTable),
    /// It was supplied but could not be read: bank details are refused until it is fixed,
    /// rather than recorded unchecked against the operator's intent.
    Unreadable(String),
}

impl ModulusSource {
    pub fn load(
        weights: Option<&std::path::Path>,
        substitutions: Option<&std::path::Path>,
    ) -> ModulusSource {
        match weights {
            None => ModulusSource::None,
            Some(weights) => match ModulusTable::load(weights, substitutions) {
                Ok(table) => {
                    tracing::info!(rows = table.len(), "modulus table loaded");
                    ModulusSource::Loaded(table)
                }
                Err(problem) => {
                    tracing::error!(path = %weights.display(), %problem, "modulus table unreadable; payee bank details are refused until it is fixed");
                    ModulusSource::Unreadable(format!("{}: {problem}", weights.display()))
                }
            },
        }
    }
}

fn authority(raw: &str) -> Result<AuthorityId, PaymentsError> {
    AuthorityId::parse("authority", raw)
        .map_err(|invalid| PaymentsError::InvalidInput(invalid.to_string()))
}

fn payee(raw: &str) -> Result<Uuid, PaymentsError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        PaymentsError::InvalidInput(if raw.trim().is_empty() {
            "payee_id: missing; give the provider's or holder's id (a UUID)".to_owned()
        } else {
            format!("payee_id: {} is not a UUID", shown(raw))
        })
    })
}

/// Finance staff of the authority: the only people who see or change bank details.
pub fn is_finance_of(principal: &Principal, authority: &AuthorityId) -> bool {
    principal.org_kind == OrgKind::Authority
        && principal.may_act_for(authority)
        && principal.has_role(Role::Finance)
}

/// Reads a bank account message, naming fields under `field`.
pub fn bank_details(
    field: &str,
    account: Option<&proto::BankAccount>,
) -> Result<BankDetails, PaymentsError> {
    let account = account.ok_or_else(|| {
        PaymentsError::InvalidInput(format!(
            "{field}: missing; give sort_code, account_number and account_name"
        ))
    })?;
    let read = || -> Result<BankDetails, String> {
        Ok(BankDetails {
            sort_code: bank_account::sort_code(&format!("{field}.sort_code"), &account.sort_code)?,
            account_number: bank_account::account_number(
                &format!("{field}.account_number"),
                &account.account_number,
            )?,
            account_name: bank_account::account_name(
                &format!("{field}.account_name"),
                &account.account_name,
            )?,
        })
    };
    read().map_err(PaymentsError::InvalidInput)
}

pub fn account_message(details: &BankDetails) -> proto::BankAccount {
    proto::BankAccount {
        sort_code: details.sort_code.clone(),
        account_number: details.account_number.clone(),
        account_name: details.account_name.clone(),
    }
}

fn modulus_message(modulus: Modulus) -> proto::ModulusCheck {
    match modulus {
        Modulus::Valid => proto::ModulusCheck::Valid,
        Modulus::NotChecked => proto::ModulusCheck::NotChecked,
        Modulus::NoTable => proto::ModulusCheck::NoTable,
    }
}

fn message(authority: &AuthorityId, account: &PayeeAccount) -> proto::PayeeBankAccount {
    proto::PayeeBankAccount {
        authority: authority.as_str().to_owned(),
        payee_id: account.payee_id.to_string(),
        account: Some(account_message(&account.account)),
        modulus_check: modulus_message(account.modulus) as i32,
        version: u32::try_from(account.version).unwrap_or_default(),
        entered_by: account.entered_by.clone(),
        entered_at: account
            .entered_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

pub async fn set(
    pool: &PgPool,
    modulus: &ModulusSource,
    principal: &Principal,
    request: &proto::SetPayeeBankAccountRequest,
) -> Result<proto::PayeeBankAccount, PaymentsError> {
    let authority = authority(&request.authority)?;
    let payee_id = payee(&request.payee_id)?;
    let details = bank_details("account", request.account.as_ref())?;
    if !is_finance_of(principal, &authority) {
        return Err(PaymentsError::NotAllowed(format!(
            "bank details of {authority}'s payees are entered by its finance staff"
        )));
    }
    let table = match modulus {
        ModulusSource::None => None,
        ModulusSource::Loaded(table) => Some(table),
        // The problem (with the file's path) is in the server's log from the start.
        ModulusSource::Unreadable(_) => {
            return Err(PaymentsError::Unconfigured(
                "the modulus table could not be read (see the server's log); the operator must fix SDS_MODULUS_WEIGHTS before bank details can be checked".to_owned(),
            ));
        }
    };
    let checked = bank_account::modulus_check("account", table, &details)
        .map_err(PaymentsError::InvalidInput)?;
    let mut connection = pool.acquire().await.operation("database connection")?;
    let recorded = store::record_payee_account(
        &mut connection,
        &authority,
        payee_id,
        &details,
        checked,
        &principal.org_id,
    )
    .await?;
    tracing::info!(%authority, payee = %payee_id, version = recorded.version, modulus = checked.as_str(), "payee bank account recorded");
    Ok(message(&authority, &recorded))
}

pub async fn get(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::GetPayeeBankAccountRequest,
) -> Result<proto::PayeeBankAccount, PaymentsError> {
    let authority = authority(&request.authority)?;
    let payee_id = payee(&request.payee_id)?;
    let mut transaction = pool.begin().await.operation("database connection")?;
    let account = store::current_payee_account(&mut transaction, &authority, payee_id).await?;
    let entry = match &account {
        Some(_) => Some(read_audit::Record {
            subject_kind: store::payee_kind(&mut transaction, &authority, payee_id)
                .await?
                .as_deref()
                .and_then(SubjectKind::from_name)
                .unwrap_or(SubjectKind::Payee),
            authority: authority.clone(),
            subject_id: payee_id,
            what: GET_PAYEE_BANK_ACCOUNT,
            record_id: payee_id.to_string(),
        }),
        None => None,
    };
    if !is_finance_of(principal, &authority) {
        if let Some(entry) = &entry {
            let refused = Outcome::Refused(Refusal::PermissionDenied);
            read_audit::write(&mut transaction, clock, principal, entry, refused).await?;
            transaction.commit().await.operation("commit")?;
        }
        return Err(PaymentsError::NotAllowed(format!(
            "bank details of {authority}'s payees are read by its finance staff"
        )));
    }
    let (Some(account), Some(entry)) = (account, entry) else {
        return Err(PaymentsError::NoBankAccount(payee_id));
    };
    read_audit::read(&mut transaction, clock, principal, &entry).await?;
    transaction.commit().await.operation("commit")?;
    Ok(message(&authority, &account))
}
