//! `sds-system-tests`: end-to-end scenarios that cross services (the flow that defines the
//! product, chaos, load). Scenarios that drive the single `sds` binary live beside it in
//! `services/sds/tests/`, where Cargo can hand them the built binary; this crate takes the
//! scenarios that need several services once a second service exists.
