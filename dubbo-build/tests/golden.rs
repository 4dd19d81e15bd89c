//! Golden tests: the generator's output for `proto/greeter.proto` is checked in. Run with
//! `UPDATE_GOLDEN=1` to accept a deliberate change.

use std::path::Path;

fn generate(builder: dubbo_build::Builder) -> Vec<dubbo_build::GeneratedFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    builder
        .emit_rerun_if_changed(false)
        .generate(&[root.join("proto/greeter.proto")], &[root.join("proto")])
        .expect("generation succeeds")
}

#[test]
fn greeter_output_matches_golden_file() {
    let files = generate(dubbo_build::configure());
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.name, "org.apache.dubbo.sample.rs");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(&file.name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &file.content).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).expect("golden file exists");
    assert!(
        expected == file.content,
        "generated code differs from {}; rerun with UPDATE_GOLDEN=1 if intended",
        golden.display()
    );
}

#[test]
fn options_change_what_is_generated() {
    let full = &generate(dubbo_build::configure())[0].content;
    assert!(full.contains("pub struct GreeterClient"));
    assert!(full.contains("pub trait Greeter"));
    assert!(full.contains("serde::Serialize"));

    let server_only = &generate(dubbo_build::configure().build_client(false))[0].content;
    assert!(!server_only.contains("pub struct GreeterClient"));
    assert!(server_only.contains("pub struct GreeterServer"));

    let client_only = &generate(dubbo_build::configure().build_server(false))[0].content;
    assert!(client_only.contains("pub struct GreeterClient"));
    assert!(!client_only.contains("pub trait Greeter"));

    let no_hessian = &generate(dubbo_build::configure().hessian(false))[0].content;
    assert!(!no_hessian.contains("serde"));
    assert!(no_hessian.contains("protobuf_only"));

    let attributed = &generate(
        dubbo_build::configure()
            .type_attribute(".org.apache.dubbo.sample.HelloReply", "#[derive(Default)]"),
    )[0]
    .content;
    assert_eq!(attributed.matches("#[derive(Default)]").count(), 1);

    let with_include = generate(dubbo_build::configure().include_file("all.rs"));
    assert_eq!(with_include.len(), 2);
    assert!(
        with_include[1]
            .content
            .contains("include!(\"org.apache.dubbo.sample.rs\");")
    );
}

#[test]
fn proto_comments_become_doc_comments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("doc.proto"),
        "syntax = \"proto3\";\npackage doc;\n// The service.\nservice S {\n  // Says hi.\n  rpc Hi (M) returns (M);\n}\n// A message.\nmessage M {}\n",
    )
    .unwrap();
    let files = dubbo_build::configure()
        .emit_rerun_if_changed(false)
        .generate(&[dir.path().join("doc.proto")], &[dir.path()])
        .unwrap();
    let code = &files[0].content;
    assert!(code.contains("/// The service."), "{code}");
    assert!(code.contains("/// Says hi."), "{code}");
    assert!(code.contains("/// A message."), "{code}");
}

#[test]
fn protoc_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.proto"),
        "syntax = \"proto3\"; message {",
    )
    .unwrap();
    let err = dubbo_build::configure()
        .emit_rerun_if_changed(false)
        .generate(&[dir.path().join("bad.proto")], &[dir.path()])
        .unwrap_err();
    assert!(err.to_string().contains("protoc failed"), "{err}");
}

#[test]
fn compile_protos_writes_to_out_dir_and_respects_protoc_env() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile::tempdir().unwrap();
    dubbo_build::configure()
        .emit_rerun_if_changed(false)
        .out_dir(out.path())
        .compile_protos(&[root.join("proto/greeter.proto")], &[root.join("proto")])
        .unwrap();
    assert!(out.path().join("org.apache.dubbo.sample.rs").exists());
}
