use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../proto/greeter.proto";
    dubbo_build::configure().compile_protos(&[proto], &["../proto"])?;
    // tonic's code goes to its own directory (the file names would collide); only the
    // tonic-server example includes it.
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("tonic");
    std::fs::create_dir_all(&out)?;
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_client(false)
        .out_dir(&out)
        .compile_with_config(config, &[proto], &["../proto"])?;
    Ok(())
}
