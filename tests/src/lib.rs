//! `sds-system-tests`: end-to-end scenarios that cross services, in `tests/`. Scenarios that
//! drive the built `sds` binary live beside it in `services/sds/tests/`, where Cargo hands
//! them the binary.
