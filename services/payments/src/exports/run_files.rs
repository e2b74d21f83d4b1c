//! The exporting phase of a run: its remittances made once, then every finance file written
//! from what the run paid: the journal (an instalment per pair of lines), and the bank files
//! (a credit per remittance) in Bacs Standard 18 and ISO 20022 pain.001.
//!
//! What must stay true: the files say what the ledger holds. They are written only after
//! every instalment is posted, from the same rows; a run finished again writes them again,
//! byte for byte the same (the remittances and the bank details they pay to were fixed the
//! first time, and the files' times are the run's start).

use sds_platform::StoreContext as _;
use std::io::Write as _;
use std::path::Path;

use sds_proto::v1 as proto;
use sqlx::PgPool;

use crate::error::PaymentsError;
use crate::exports::bank::{Credit, Originator, RunHeader};
use crate::exports::{PendingFile, bacs, journal, pain001, run_folder};
use crate::runs::{Progress, report};
use crate::store;
use crate::store::remittances;
use crate::store::runs::{self, RunBank, RunRecord};

/// Journal lines read per page.
const PAGE: i64 = 20_000;

pub const JOURNAL: &str = "journal.csv";
pub const BACS: &str = "bacs-standard18.txt";
pub const PAIN001: &str = "pain001.xml";

/// Writes the run's finance files; returns their paths.
pub async fn write(
    pool: &PgPool,
    exports: &Path,
    run: &RunRecord,
    bank: &RunBank,
    progress: &Progress,
) -> Result<Vec<String>, PaymentsError> {
    let paying = &bank.paying;
    let folder = run_folder(exports, &run.authority, run.run_date, run.run_id);
    let write_error = |file: &str, error: std::io::Error| {
        tracing::error!(run = %run.run_id, folder = %folder.display(), file, %error, "finance file not written");
        PaymentsError::ExportsUnwritable
    };
    let mut files = vec![write_journal(pool, &folder, run, progress).await?];

    remittances::make_for_run(pool, run.run_id).await?;
    let credits: Vec<Credit> = remittances::credits_of_run(pool, run.run_id)
        .await?
        .into_iter()
        .map(|(remittance, account)| Credit {
            payee_id: remittance.payee_id,
            sort_code: account.sort_code,
            account_number: account.account_number,
            account_name: account.account_name,
            amount_pence: remittance.total.pence(),
            reference: remittance.number,
        })
        .collect();
    // A run that paid nothing sends nothing to the bank (and Bacs takes no empty file).
    if credits.is_empty() {
        return Ok(files);
    }
    let originator = Originator {
        name: paying.name.clone(),
        sort_code: paying.account.sort_code.clone(),
        account_number: paying.account.account_number.clone(),
        account_name: paying.account.account_name.clone(),
        service_user_number: paying.service_user_number.clone(),
    };
    let header = RunHeader {
        run_id: run.run_id,
        created_at: run.started_at,
        processing_date: bank.processing_date,
        credit_date: bank.credit_date,
    };

    let mut file = PendingFile::create(&folder, BACS).map_err(|error| write_error(BACS, error))?;
    bacs::write_bacs(file.writer(), &originator, &header, &credits)
        .map_err(|error| write_error(BACS, error))?;
    files.push(path_text(
        file.finish().map_err(|error| write_error(BACS, error))?,
    ));

    let mut file =
        PendingFile::create(&folder, PAIN001).map_err(|error| write_error(PAIN001, error))?;
    pain001::write_pain001(file.writer(), &originator, &header, &credits)
        .map_err(|error| write_error(PAIN001, error))?;
    files.push(path_text(
        file.finish().map_err(|error| write_error(PAIN001, error))?,
    ));
    Ok(files)
}

fn path_text(path: std::path::PathBuf) -> String {
    path.display().to_string()
}

/// The journal, a page of instalments at a time.
async fn write_journal(
    pool: &PgPool,
    folder: &Path,
    run: &RunRecord,
    progress: &Progress,
) -> Result<String, PaymentsError> {
    let codes = {
        let mut connection = pool.acquire().await.operation("database connection")?;
        store::journal_codes(&mut connection, &run.authority).await?
    }
    .unwrap_or_default();
    let write_error = |error: std::io::Error| {
        tracing::error!(run = %run.run_id, folder = %folder.display(), %error, "journal not written");
        PaymentsError::ExportsUnwritable
    };
    let mut file = PendingFile::create(folder, JOURNAL).map_err(write_error)?;
    writeln!(file.writer(), "{}", journal::HEADER).map_err(write_error)?;
    let mut line = 0;
    let mut written = 0;
    let mut after = crate::store::BEFORE_EVERY_INSTALMENT;
    loop {
        let items = runs::paid_items(pool, run.run_id, after, PAGE).await?;
        let Some(last) = items.last() else {
            break;
        };
        after = (last.agreement_id, last.period_start);
        line = journal::write_lines(
            file.writer(),
            run.run_id,
            run.run_date,
            &codes,
            &items,
            line,
        )
        .map_err(write_error)?;
        written += u64::try_from(items.len()).unwrap_or_default();
        report(
            progress,
            run.run_id,
            proto::RunPhase::Exporting,
            written,
            written,
        )
        .await;
    }
    Ok(path_text(file.finish().map_err(write_error)?))
}
