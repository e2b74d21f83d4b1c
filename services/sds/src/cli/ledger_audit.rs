//! `sds ledger audit`: an operator command that reads the ledger's schema directly with
//! `SDS_DATABASE_URL` (as `sds migrate` does; no server, no token), checks every invariant
//! of the books (see `sds_ledger::audit`), prints each violation on standard error and, as
//! its last line on standard output,
//! `{"funds": N, "transfers": N, "violations": [{"kind": "...", "detail": "..."}]}`, and
//! exits non-zero when there is any violation.

use sds_platform::PlatformConfig;

/// Runs the audit and prints its report.
pub async fn run() -> anyhow::Result<()> {
    let config = PlatformConfig::from_env()?;
    let pool = sds_platform::db::connect(&config.database_url, sds_ledger::SCHEMA, 2).await?;
    let report = sds_ledger::audit::run(&pool).await;
    pool.close().await;
    let report = report?;
    for violation in &report.violations {
        eprintln!("{}: {}", violation.kind, violation.detail);
    }
    println!("{}", report.json_line());
    if report.is_clean() {
        Ok(())
    } else {
        anyhow::bail!(
            "the audit found {} violations of the ledger's invariants",
            report.violations.len()
        )
    }
}
