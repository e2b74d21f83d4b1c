//! Assessment and budgeting: the people an authority supports, whether they are eligible,
//! the indicative budget they are told up front, the support plan and its versions, who
//! may approve it, when it is reviewed, and the aggregate figures (option uptake and the
//! Public Health Scotland return) that follow from approved plans.
//!
//! This crate holds the pure core only, [`domain`]: rules as functions over plain values,
//! no IO, no clock, no protobuf. Handlers and the store convert to these types at the edge.

pub mod domain;
