//! Compiles `proto/` with protox (pure Rust: no `protoc` needed) into tonic
//! stubs, and writes the encoded descriptor set for server reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/mishen/v1/screening.proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("mishen_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
