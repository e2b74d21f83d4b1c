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

/// Set to `1` by a process that starts `sds serve` as its child and hands it a pipe as
/// standard input (`sds simulate`): the child stops when the pipe closes. The kernel closes
/// it when the parent dies however it dies, SIGKILL included, so a parent killed outright
/// leaves no platform running on against its books. (`PR_SET_PDEATHSIG` would need unsafe
/// code, which the workspace forbids.)
pub const STOP_WHEN_STDIN_CLOSES: &str = "SDS_STOP_WHEN_STDIN_CLOSES";

/// Runs the selected services until SIGTERM or SIGINT (or, with
/// [`STOP_WHEN_STDIN_CLOSES`], until standard input closes), then stops in order.
pub async fn serve(config: PlatformConfig, only: &OnlyArgs) -> anyhow::Result<()> {
    let components = sds_runtime::select(sds::components(), &only.only)?;
    let process = sds_runtime::build(config, components).await?;
    if std::env::var(STOP_WHEN_STDIN_CLOSES).is_ok_and(|stop| stop == "1") {
        let closed = stdin_closed();
        let stop = async move {
            tokio::select! {
                () = shutdown_signal() => {}
                _ = closed => {
                    tracing::warn!("standard input closed: the process that started this one is gone; stopping");
                }
            }
        };
        process.run(stop).await
    } else {
        process.run(shutdown_signal()).await
    }
}

/// Answers once standard input reaches its end. Read on a thread of its own, not the
/// runtime's blocking pool, which would hold the runtime open at shutdown while it reads.
fn stdin_closed() -> tokio::sync::oneshot::Receiver<()> {
    let (closed, answer) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::Read as _;
        let mut stdin = std::io::stdin().lock();
        let mut discarded = [0_u8; 64];
        while stdin.read(&mut discarded).is_ok_and(|read| read > 0) {}
        let _ = closed.send(());
    });
    answer
}

/// Applies the selected services' migrations.
pub async fn migrate(config: PlatformConfig, only: &OnlyArgs) -> anyhow::Result<()> {
    let components = sds_runtime::select(sds::components(), &only.only)?;
    sds_runtime::migrate(&config, &components).await
}
