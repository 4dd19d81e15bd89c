//! An IDL-agnostic description of services, filled from prost's service AST.

/// A service to generate code for.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    /// Rust type name stem, e.g. `Greeter`.
    pub(crate) name: String,
    /// Name in the IDL.
    pub(crate) proto_name: String,
    /// IDL package, e.g. `org.apache.dubbo.sample`.
    pub(crate) package: String,
    /// Doc lines (already sanitized for rustdoc).
    pub(crate) docs: Vec<String>,
    pub(crate) methods: Vec<Method>,
}

/// One RPC.
#[derive(Debug, Clone)]
pub(crate) struct Method {
    /// Rust method name (snake case, keywords escaped).
    pub(crate) name: String,
    /// Name in the IDL (what goes on the wire).
    pub(crate) proto_name: String,
    pub(crate) docs: Vec<String>,
    /// Rust path of the request type, relative to the generated module.
    pub(crate) input_type: String,
    /// Rust path of the response type.
    pub(crate) output_type: String,
    pub(crate) client_streaming: bool,
    pub(crate) server_streaming: bool,
}

impl Service {
    /// The fully-qualified service name: the Dubbo interface name and the gRPC service name.
    pub(crate) fn full_name(&self) -> String {
        if self.package.is_empty() {
            self.proto_name.clone()
        } else {
            format!("{}.{}", self.package, self.proto_name)
        }
    }
}

fn doc_lines(comments: &prost_build::Comments) -> Vec<String> {
    let attached = prost_build::Comments {
        leading_detached: Vec::new(),
        leading: comments.leading.clone(),
        trailing: comments.trailing.clone(),
    };
    let mut rendered = String::new();
    attached.append_with_indent(0, &mut rendered);
    rendered
        .lines()
        .filter_map(|line| line.strip_prefix("///"))
        .map(str::to_owned)
        .collect()
}

impl From<prost_build::Service> for Service {
    fn from(service: prost_build::Service) -> Service {
        Service {
            docs: doc_lines(&service.comments),
            name: service.name,
            proto_name: service.proto_name,
            package: service.package,
            methods: service
                .methods
                .into_iter()
                .map(|m| Method {
                    docs: doc_lines(&m.comments),
                    name: m.name,
                    proto_name: m.proto_name,
                    input_type: m.input_type,
                    output_type: m.output_type,
                    client_streaming: m.client_streaming,
                    server_streaming: m.server_streaming,
                })
                .collect(),
        }
    }
}
