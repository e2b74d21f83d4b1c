//! `sds portal notifications`: a provider's or a fund holder's notifications from the
//! portal, as the portal's `Subscribe` streams them: one JSON object per line, in order,
//! each with its `seq`. Without `--follow` it prints what is stored after `--after` and stops
//! once nothing more arrives for a moment; with it, it keeps printing live ones until
//! interrupted. Pass the last `seq` printed as `--after` to resume exactly where it stopped.

use std::time::Duration;

use sds_proto::v1 as proto;
use sds_proto::v1::portal_service_client::PortalServiceClient;
use tokio_stream::StreamExt as _;

use super::output::emit;
use super::{Bearer, ClientArgs, connect, status_error};

#[derive(Debug, clap::Subcommand)]
pub enum PortalCommand {
    /// The caller's notifications (a provider's or holder's token), one JSON line each.
    Notifications {
        #[command(flatten)]
        client: ClientArgs,
        /// The last seq already seen; the first notification printed is the one after it.
        #[arg(long, default_value = "")]
        after: String,
        /// Keep printing live notifications until interrupted.
        #[arg(long)]
        follow: bool,
        /// Without --follow: stop once nothing has arrived for this many milliseconds.
        #[arg(long, default_value_t = 1000)]
        quiet_ms: u64,
    },
}

pub async fn run(command: PortalCommand) -> anyhow::Result<()> {
    match command {
        PortalCommand::Notifications {
            client,
            after,
            follow,
            quiet_ms,
        } => {
            let bearer = Bearer::from_args(&client)?;
            let mut portal =
                PortalServiceClient::with_interceptor(connect(&client.server).await?, bearer);
            let mut stream = portal
                .subscribe(proto::SubscribeRequest { after })
                .await
                .map_err(status_error)?
                .into_inner();
            let quiet = Duration::from_millis(quiet_ms);
            loop {
                let next = if follow {
                    stream.next().await
                } else {
                    match tokio::time::timeout(quiet, stream.next()).await {
                        Ok(next) => next,
                        // Caught up: everything stored has been printed.
                        Err(_) => return Ok(()),
                    }
                };
                match next {
                    Some(Ok(notification)) => {
                        emit(&(serde_json::to_string(&notification)? + "\n"))?;
                    }
                    Some(Err(status)) => return Err(status_error(status)),
                    None => return Ok(()),
                }
            }
        }
    }
}
