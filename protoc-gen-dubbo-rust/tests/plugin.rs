//! The plugin run by the vendored protoc produces exactly what `dubbo-build` writes, reports
//! bad options through protoc, supports proto3 `optional`, and its checked-in output (the
//! `plugin-output` test crate) is current.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn proto_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            proto_files(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(
                path.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

fn run_protoc(include: &Path, files: &[String], options: &str, out: &Path) -> Output {
    let mut cmd = Command::new(protoc_bin_vendored::protoc_bin_path().unwrap());
    cmd.arg(format!(
        "--plugin=protoc-gen-dubbo-rust={}",
        env!("CARGO_BIN_EXE_protoc-gen-dubbo-rust")
    ))
    .arg(format!("--dubbo-rust_out={}", out.display()))
    .arg("-I")
    .arg(include)
    .arg("-I")
    .arg(protoc_bin_vendored::include_path().unwrap());
    if !options.is_empty() {
        cmd.arg(format!("--dubbo-rust_opt={options}"));
    }
    cmd.args(files).output().unwrap()
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect()
}

fn compare(options: &str, builder: dubbo_build::Builder) {
    let proto_dir = root().join("proto");
    let mut files = Vec::new();
    proto_files(&proto_dir, &proto_dir, &mut files);
    assert!(!files.is_empty());
    let out = tempfile::tempdir().unwrap();
    let output = run_protoc(&proto_dir, &files, options, out.path());
    assert!(
        output.status.success(),
        "protoc failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let from_plugin = read_dir(out.path());
    let paths: Vec<PathBuf> = files.iter().map(|f| proto_dir.join(f)).collect();
    let from_builder: BTreeMap<String, String> = builder
        .emit_rerun_if_changed(false)
        .generate(&paths, &[&proto_dir])
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.content))
        .collect();
    assert_eq!(
        from_plugin.keys().collect::<Vec<_>>(),
        from_builder.keys().collect::<Vec<_>>(),
        "same files"
    );
    for (name, content) in &from_plugin {
        assert!(
            content == &from_builder[name],
            "{name} differs between plugin and dubbo-build"
        );
    }
}

#[test]
fn every_proto_file_matches_dubbo_build_byte_for_byte() {
    compare(
        "include_file=mod.rs",
        dubbo_build::configure().include_file("mod.rs"),
    );
}

#[test]
fn options_produce_the_same_code_as_the_builder() {
    compare(
        "build_client=false,type_attribute=.org.apache.dubbo.sample.HelloReply=#[derive(Eq, PartialOrd)],\
         extern_path=.unused.pkg=::unused::pkg,btree_map=.",
        dubbo_build::configure()
            .build_client(false)
            .type_attribute(
                ".org.apache.dubbo.sample.HelloReply",
                "#[derive(Eq, PartialOrd)]",
            )
            .extern_path(".unused.pkg", "::unused::pkg")
            .btree_map("."),
    );
}

#[test]
fn bad_options_fail_through_protoc_without_a_panic() {
    let out = tempfile::tempdir().unwrap();
    let proto_dir = root().join("proto");
    for (options, expected) in [
        ("no_such_option", "unknown option"),
        ("extern_path=.only", "extern_path=PATH=VALUE"),
        ("build_server=perhaps", "true or false"),
    ] {
        let output = run_protoc(&proto_dir, &["greeter.proto".into()], options, out.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{options}");
        assert!(stderr.contains(expected), "{options}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn proto3_optional_is_supported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("opt.proto"),
        "syntax = \"proto3\";\npackage opt;\nmessage M { optional string name = 1; optional bytes raw = 2; }\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = run_protoc(dir.path(), &["opt.proto".into()], "", out.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let code = std::fs::read_to_string(out.path().join("opt.rs")).unwrap();
    assert!(code.contains("::core::option::Option<"), "{code}");
}

#[test]
fn checked_in_plugin_output_is_current() {
    let out = tempfile::tempdir().unwrap();
    let output = run_protoc(
        &root().join("proto"),
        &["greeter.proto".into()],
        "include_file=mod.rs",
        out.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let gen_dir = root().join("tests/plugin-output/src/gen");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&gen_dir).unwrap();
        for (name, content) in read_dir(out.path()) {
            std::fs::write(gen_dir.join(name), content).unwrap();
        }
    }
    assert_eq!(
        read_dir(out.path()),
        read_dir(&gen_dir),
        "tests/plugin-output/src/gen is stale; rerun with UPDATE_GOLDEN=1"
    );
}
