//! Static descriptions of services and methods, emitted by the code generator (and built at
//! run time, once per service, for Java-interface services: see
//! [`JavaService`](crate::java::JavaService)).

use std::borrow::Cow;

/// The four RPC shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// One request, one reply.
    Unary,
    /// One request, a stream of replies.
    ServerStreaming,
    /// A stream of requests, one reply.
    ClientStreaming,
    /// Streams both ways.
    BidiStreaming,
}

impl CallKind {
    /// Builds the kind from the two streaming flags of a proto method.
    pub const fn from_flags(client_streaming: bool, server_streaming: bool) -> CallKind {
        match (client_streaming, server_streaming) {
            (false, false) => CallKind::Unary,
            (false, true) => CallKind::ServerStreaming,
            (true, false) => CallKind::ClientStreaming,
            (true, true) => CallKind::BidiStreaming,
        }
    }

    /// Whether the client sends a stream.
    pub const fn client_streaming(self) -> bool {
        matches!(self, CallKind::ClientStreaming | CallKind::BidiStreaming)
    }

    /// Whether the server sends a stream.
    pub const fn server_streaming(self) -> bool {
        matches!(self, CallKind::ServerStreaming | CallKind::BidiStreaming)
    }
}

/// One method of a service.
#[derive(Debug)]
pub struct MethodDescriptor {
    /// Method name as declared in the IDL, e.g. `SayHello`.
    pub name: &'static str,
    /// The Triple/gRPC path, e.g. `/org.apache.dubbo.sample.Greeter/SayHello`.
    pub path: &'static str,
    /// Call shape.
    pub kind: CallKind,
    /// Position in [`ServiceDescriptor::methods`].
    pub index: usize,
    /// The Dubbo2 parameter types. For a generated (proto) method: the Java class name of
    /// the request message, its single parameter. For a method of a Java interface: the JVM
    /// parameter descriptor in parentheses, e.g. `(Ljava/lang/String;I)` — a Java class name
    /// never starts with `(`. See [`MethodDescriptor::parameter_types`].
    pub request_class: &'static str,
    /// Java class name of the reply message (the return type).
    pub response_class: &'static str,
    /// Reads a Dubbo2 request's only argument, given the bytes of its Hessian value, as the
    /// typed request message. Generated (proto) methods have one
    /// ([`codegen::hessian_request`](crate::codegen::hessian_request)), so the server never
    /// builds a [`Value`](crate::hessian2::Value) tree for the argument; `None` hands the
    /// service the decoded values ([`Payload::arguments`](crate::Payload::arguments)).
    pub hessian_request: Option<HessianRequestFn>,
}

/// See [`MethodDescriptor::hessian_request`].
pub type HessianRequestFn = fn(&[u8]) -> Result<crate::Payload, crate::Status>;

impl MethodDescriptor {
    /// Whether this is a method of a Java interface (see [`MethodDescriptor::request_class`])
    /// rather than a proto RPC.
    pub fn is_java_method(&self) -> bool {
        self.request_class.starts_with('(')
    }

    /// The JVM parameter descriptor Dubbo2 sends with a call, e.g. `Ljava/lang/String;I`
    /// (empty for a method without parameters).
    ///
    /// ```
    /// use dubbo_runtime::descriptor::{CallKind, MethodDescriptor};
    /// let m = MethodDescriptor {
    ///     name: "SayHello",
    ///     path: "/pkg.Greeter/SayHello",
    ///     kind: CallKind::Unary,
    ///     index: 0,
    ///     request_class: "pkg.HelloRequest",
    ///     response_class: "pkg.HelloReply",
    ///     hessian_request: None,
    /// };
    /// assert_eq!(m.parameter_types(), "Lpkg/HelloRequest;");
    /// assert_eq!(m.wire_name(), "sayHello");
    /// ```
    pub fn parameter_types(&self) -> Cow<'static, str> {
        let class = self.request_class;
        match class.strip_prefix('(') {
            Some(rest) => Cow::Borrowed(rest.strip_suffix(')').unwrap_or(rest)),
            None => Cow::Owned(format!("L{};", class.replace('.', "/"))),
        }
    }

    /// The method name as a Java caller sends it over Dubbo2: Java methods as declared,
    /// proto RPCs with the first letter lower-cased (`SayHello` → `sayHello`), as the Java
    /// interface generated from the proto declares them.
    pub fn wire_name(&self) -> Cow<'static, str> {
        let name = self.name;
        match name.as_bytes().first() {
            Some(b) if b.is_ascii_uppercase() && !self.is_java_method() => {
                let mut out = String::with_capacity(name.len());
                out.push(char::from(b.to_ascii_lowercase()));
                out.push_str(&name[1..]);
                Cow::Owned(out)
            }
            _ => Cow::Borrowed(name),
        }
    }
}

/// A service: its fully-qualified name (the Dubbo interface name) and methods.
#[derive(Debug)]
pub struct ServiceDescriptor {
    /// Fully-qualified name, e.g. `org.apache.dubbo.sample.Greeter`.
    pub name: &'static str,
    /// Methods in declaration order.
    pub methods: &'static [MethodDescriptor],
}

impl ServiceDescriptor {
    /// Finds a method by name. An exact match wins; otherwise the first letter's case is
    /// ignored, so Java-style `sayHello` reaches `SayHello` and vice versa.
    pub fn method(&'static self, name: &str) -> Option<&'static MethodDescriptor> {
        if let Some(m) = self.methods.iter().find(|m| m.name == name) {
            return Some(m);
        }
        let mut chars = name.chars();
        let first = chars.next()?;
        let rest = chars.as_str();
        self.methods.iter().find(|m| {
            let mut mc = m.name.chars();
            mc.next()
                .is_some_and(|c| c.eq_ignore_ascii_case(&first) && mc.as_str() == rest)
        })
    }

    /// Comma-separated method names, as the registry's `methods` parameter wants.
    pub fn method_names(&self) -> String {
        let mut out = String::new();
        for (i, m) in self.methods.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(m.name);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SVC: ServiceDescriptor = ServiceDescriptor {
        name: "pkg.Svc",
        methods: &[
            MethodDescriptor {
                name: "SayHello",
                path: "/pkg.Svc/SayHello",
                kind: CallKind::Unary,
                index: 0,
                request_class: "pkg.Req",
                response_class: "pkg.Resp",
                hessian_request: None,
            },
            MethodDescriptor {
                name: "sayBye",
                path: "/pkg.Svc/sayBye",
                kind: CallKind::BidiStreaming,
                index: 1,
                request_class: "pkg.Req",
                response_class: "pkg.Resp",
                hessian_request: None,
            },
        ],
    };

    #[test]
    fn methods_resolve_with_first_letter_fallback() {
        assert_eq!(SVC.method("SayHello").unwrap().index, 0);
        assert_eq!(SVC.method("sayHello").unwrap().index, 0);
        assert_eq!(SVC.method("SayBye").unwrap().index, 1);
        assert!(SVC.method("sayhello").is_none());
        assert!(SVC.method("").is_none());
        assert_eq!(SVC.method_names(), "SayHello,sayBye");
    }

    #[test]
    fn parameter_types_of_proto_and_java_methods() {
        let proto = &SVC.methods[0];
        assert!(!proto.is_java_method());
        assert_eq!(proto.parameter_types(), "Lpkg/Req;");
        assert_eq!(proto.wire_name(), "sayHello");
        let java = MethodDescriptor {
            name: "Echo",
            path: "/pkg.Svc/Echo",
            kind: CallKind::Unary,
            index: 0,
            request_class: "(Ljava/lang/String;I)",
            response_class: "java.lang.Object",
            hessian_request: None,
        };
        assert!(java.is_java_method());
        assert_eq!(java.parameter_types(), "Ljava/lang/String;I");
        assert_eq!(java.wire_name(), "Echo");
        assert_eq!(SVC.methods[1].wire_name(), "sayBye");
    }

    #[test]
    fn call_kind_flags() {
        assert_eq!(CallKind::from_flags(true, true), CallKind::BidiStreaming);
        assert!(CallKind::ServerStreaming.server_streaming());
        assert!(!CallKind::ServerStreaming.client_streaming());
    }
}
