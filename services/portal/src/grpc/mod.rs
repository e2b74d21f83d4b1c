//! The `sds.v1.PortalService` handlers. The subscriber is read from the token, the cursor
//! checked against what the subscriber has been sent, and only then does a stream start.

mod convert;
mod stream;

use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_proto::v1::portal_service_server::PortalService;
use sqlx::PgPool;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use crate::domain::{Cursor, Subscriber};
use crate::error::PortalError;
use crate::store;
use crate::wakeups::Wakeups;

/// Notifications a stream may have sent and not yet had taken by the client before it waits.
const STREAM_BUFFER: usize = 64;

/// The portal's gRPC service over its PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct PortalApi {
    pool: PgPool,
    wakeups: Wakeups,
}

impl PortalApi {
    pub fn new(pool: PgPool, wakeups: Wakeups) -> PortalApi {
        PortalApi { pool, wakeups }
    }
}

#[tonic::async_trait]
impl PortalService for PortalApi {
    type SubscribeStream = ReceiverStream<Result<proto::Notification, Status>>;

    async fn subscribe(
        &self,
        request: Request<proto::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let subscriber = Subscriber::of(Principal::of(&request)?).map_err(PortalError::from)?;
        let cursor = Cursor::parse(&request.get_ref().after).map_err(PortalError::from)?;
        // Listening starts before the first read, so that nothing committed after that read
        // can go unannounced to this stream.
        let wakeups = self.wakeups.subscribe();
        let mut connection = self.pool.acquire().await.map_err(|error| {
            PortalError::from(sds_platform::StoreError {
                operation: "database connection",
                source: error,
            })
        })?;
        let kept = store::kept_range(&mut connection, subscriber)
            .await
            .map_err(PortalError::from)?;
        drop(connection);
        let cursor = cursor
            .within(kept.latest)
            .map_err(PortalError::from)?
            .kept(kept.pruned_through)
            .map_err(PortalError::from)?;
        let (sender, receiver) = tokio::sync::mpsc::channel(STREAM_BUFFER);
        let streaming = stream::Streaming {
            pool: self.pool.clone(),
            subscriber,
            after: cursor,
            wakeups,
            sender,
        };
        // In the call's span, which stays open as long as the stream does.
        tokio::spawn(streaming.run().in_current_span());
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
