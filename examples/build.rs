fn main() -> Result<(), Box<dyn std::error::Error>> {
    dubbo_build::configure().compile_protos(&["../proto/greeter.proto"], &["../proto"])?;
    Ok(())
}
