//! Assessment and budgeting: the people an authority supports, whether they are eligible,
//! the indicative budget they are told up front, the support plan and its versions, who
//! may approve it, when it is reviewed, and the aggregate figures (option uptake and the
//! Public Health Scotland return) that follow from approved plans.
//!
//! The crate is a library exposing one service unit, [`component`], which `sds serve` and
//! the tests compose through `sds_runtime::build`. Modules, outside in: [`grpc`] (handlers
//! and the validating conversions from protobuf), [`domain`] (pure rules, no IO, no clock),
//! [`store`] (SQL) and [`error`].

pub mod domain;
pub mod error;
pub mod grpc;
pub mod package_choices;
pub mod providers;
pub mod reviews;
pub mod store;

use sds_proto::v1::assessment_service_server::AssessmentServiceServer;
use sds_runtime::Component;

pub use error::AssessmentError;
pub use grpc::AssessmentApi;

/// The service's name, as `sds serve --only` takes it.
pub const NAME: &str = "assessment";

/// The PostgreSQL schema the service owns.
pub const SCHEMA: &str = "assessment";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Assessment and budgeting as a service unit: its schema and migrations, its gRPC
/// service with every call authenticated, the task that announces due reviews, the
/// consumer that suggests reviews on persistent variance, the one that keeps the
/// directory's providers for resolving what plan lines name, and the one that records the
/// person's choice when they accept an offered package.
pub fn component() -> Component {
    Component::new(NAME, SCHEMA, &MIGRATOR)
        .grpc(|context, services| {
            services.add(AssessmentServiceServer::with_interceptor(
                AssessmentApi::new(context.pool.clone(), context.clock.clone()),
                context.authenticator.clone(),
            ))
        })
        .task("review-due", reviews::run_review_announcer)
        .consumer("assessment-variance", |_| reviews::VarianceHandler)
        .consumer("assessment-providers", |_| providers::ProviderIndexHandler)
        .consumer("assessment-package-choices", |context| {
            package_choices::PackageAcceptedHandler {
                clock: context.clock.clone(),
            }
        })
}
