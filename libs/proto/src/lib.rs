//! The public contract, `sds.v1`, generated from `proto/sds/v1` at build time.
//!
//! Protobuf types stop at the gRPC handlers: services convert them into domain types with
//! validating `TryFrom` implementations of their own.

#![allow(clippy::all, missing_docs)]

pub mod v1 {
    tonic::include_proto!("sds.v1");
}

/// The encoded `FileDescriptorSet` of every `sds.v1` file, for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sds_descriptor.bin"));
