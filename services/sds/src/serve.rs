//! `sds serve` and `sds migrate`: the composition ([`sds::components`]), or the services
//! named with `--only`, put into one process by `sds_runtime`. A national holder runs one
//! service per process with `--only`; a small authority runs them all together.

use sds_platform::PlatformConfig;
use sds_platform::server::shutdown_signal;

/// Which services this process runs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OnlyArgs {
    /// Run only these services (comma-separated), e.g. --only directory. Default: all.
    /// SDS_ONLY gives the same from the environment (a Kubernetes Deployment's, say).
    #[arg(long, env = "SDS_ONLY", value_delimiter = ',')]
    pub only: Vec<String>,
}

/// Runs the selected services until SIGTERM or SIGINT, then stops in order.
pub async fn serve(config: PlatformConfig, only: &OnlyArgs) -> anyhow::Result<()> {
    let components = sds_runtime::select(sds::components(), &only.only)?;
    let process = sds_runtime::build(config, components).await?;
    process.run(shutdown_signal()).await
}

/// Applies the selected services' migrations.
pub async fn migrate(config: PlatformConfig, only: &OnlyArgs) -> anyhow::Result<()> {
    let components = sds_runtime::select(sds::components(), &only.only)?;
    sds_runtime::migrate(&config, &components).await
}
