fn main() -> Result<(), Box<dyn std::error::Error>> {
    dubbo_build::configure().compile_protos(
        &[
            "../proto/greeter.proto",
            "../proto/grpc/testing/empty.proto",
            "../proto/grpc/testing/messages.proto",
            "../proto/grpc/testing/test.proto",
        ],
        &["../proto"],
    )?;
    Ok(())
}
