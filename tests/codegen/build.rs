fn main() -> Result<(), Box<dyn std::error::Error>> {
    dubbo_build::configure()
        .include_file("protos.rs")
        .compile_protos(
            &[
                "proto/awkward.proto",
                "proto/nested/inner.proto",
                "proto/wkt.proto",
            ],
            &["proto"],
        )?;
    Ok(())
}
