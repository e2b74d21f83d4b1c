//! The public contract, `sds.v1`, generated from `proto/sds/v1` at build time, with
//! serde for every type but `Event` in the proto3 JSON mapping (see `build.rs` for the
//! choices: proto field names as keys, defaults printed, enums by name, 64-bit integers
//! as strings).
//!
//! Protobuf types stop at the gRPC handlers: services convert them into domain types with
//! validating `TryFrom` implementations of their own.

#![allow(clippy::all, missing_docs)]

pub mod v1 {
    tonic::include_proto!("sds.v1");
    include!(concat!(env!("OUT_DIR"), "/sds.v1.serde.rs"));
}

/// The encoded `FileDescriptorSet` of every `sds.v1` file, for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sds_descriptor.bin"));
