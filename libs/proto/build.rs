//! Compiles `proto/sds/v1/*.proto` with protox (pure Rust, no system protoc) and keeps the
//! file descriptor set so that servers can offer gRPC reflection; then generates serde
//! (proto3 JSON) for the same types with pbjson, from that same descriptor set.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "common.proto",
        "directory.proto",
        "assessment.proto",
        "contracts.proto",
        "ledger.proto",
        "payments.proto",
        "events.proto",
        "portal.proto",
    ]
    .map(|name| proto_root.join("sds/v1").join(name));
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptors = protox::compile(&files, [&proto_root])?;
    let encoded_descriptors = prost::Message::encode_to_vec(&descriptors);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("sds_descriptor.bin"), &encoded_descriptors)?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;

    // The canonical proto3 JSON mapping, with three choices that must stay as README's
    // "The `sds` command" describes them: keys are the proto field names (snake_case, as
    // in the .proto files), every field is printed even at its default value (so that
    // `0`, `false` and `""` appear instead of vanishing), and enums are their proto names.
    // `Event` is left out: its `google.protobuf.Timestamp` is prost-types', which has no
    // serde, and nothing prints events as JSON.
    pbjson_build::Builder::new()
        .register_descriptors(&encoded_descriptors)?
        .preserve_proto_field_names()
        .emit_fields()
        .exclude([".sds.v1.Event"])
        .build(&[".sds.v1"])?;
    Ok(())
}
