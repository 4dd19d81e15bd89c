//! The protoc plugin protocol: `CodeGeneratorRequest` in, `CodeGeneratorResponse` out, using
//! the same generator as [`Builder`](crate::Builder).

use prost::Message as _;
use prost_types::FileDescriptorSet;
use prost_types::compiler::{CodeGeneratorRequest, CodeGeneratorResponse, code_generator_response};

use crate::generator;
use crate::options::Options;

/// `FEATURE_PROTO3_OPTIONAL` from plugin.proto.
const FEATURE_PROTO3_OPTIONAL: u64 = 1;

/// Runs the plugin on an encoded request and returns the encoded response. Problems (bad
/// options, undecodable input, generation errors) are reported in the response's `error`
/// field, as protoc expects; this never panics.
pub fn run(request: &[u8]) -> Vec<u8> {
    respond(request).encode_to_vec()
}

fn error(message: String) -> CodeGeneratorResponse {
    CodeGeneratorResponse {
        error: Some(message),
        supported_features: Some(FEATURE_PROTO3_OPTIONAL),
        ..Default::default()
    }
}

fn respond(request: &[u8]) -> CodeGeneratorResponse {
    let request = match CodeGeneratorRequest::decode(request) {
        Ok(r) => r,
        Err(e) => {
            return error(format!(
                "protoc-gen-dubbo-rust: cannot decode CodeGeneratorRequest: {e}"
            ));
        }
    };
    let options = match Options::from_parameter(request.parameter()) {
        Ok(o) => o,
        Err(e) => return error(format!("protoc-gen-dubbo-rust: {e}")),
    };
    let fds = FileDescriptorSet {
        file: request.proto_file,
    };
    match generator::generate(&options, fds, &request.file_to_generate) {
        Ok(files) => CodeGeneratorResponse {
            error: None,
            supported_features: Some(FEATURE_PROTO3_OPTIONAL),
            file: files
                .into_iter()
                .map(|f| code_generator_response::File {
                    name: Some(f.name),
                    content: Some(f.content),
                    ..Default::default()
                })
                .collect(),
        },
        Err(e) => error(format!("protoc-gen-dubbo-rust: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_bad_options_become_errors() {
        let response = CodeGeneratorResponse::decode(run(&[0xff, 0xff, 0xff]).as_slice()).unwrap();
        assert!(response.error.unwrap().contains("cannot decode"));
        let request = CodeGeneratorRequest {
            parameter: Some("frobnicate".into()),
            ..Default::default()
        };
        let response =
            CodeGeneratorResponse::decode(run(&request.encode_to_vec()).as_slice()).unwrap();
        assert!(response.error.unwrap().contains("unknown option"));
        assert_eq!(response.supported_features, Some(FEATURE_PROTO3_OPTIONAL));
    }

    #[test]
    fn missing_file_is_an_error() {
        let request = CodeGeneratorRequest {
            file_to_generate: vec!["nope.proto".into()],
            ..Default::default()
        };
        let response =
            CodeGeneratorResponse::decode(run(&request.encode_to_vec()).as_slice()).unwrap();
        assert!(response.error.unwrap().contains("nope.proto"));
    }
}
