//! Java interfaces without generated code: serve one from Rust ([`JavaService`]), call one
//! with serde types or Hessian values ([`JavaClient`], including generic invocation), and the
//! Java exceptions that travel with Dubbo2 errors.
//!
//! Most Dubbo services in production are Java interfaces (`String sayHello(String)`), not
//! proto services. Over Dubbo2 a call names the method and its JVM parameter descriptor and
//! carries one Hessian value per argument; these types let Rust code take either side.
//!
//! # Arguments
//!
//! Arguments travel as a list of Hessian values ([`Payload::arguments`](crate::Payload::arguments)).
//! Typed APIs here use serde: the argument *list* is (de)serialized as a sequence, so a tuple
//! with one element per parameter is the natural Rust shape — `(name,)` for
//! `sayHello(String)`, `(a, b)` for `add(int, int)`, `()` for no parameters — and
//! `Vec<Value>` takes any list. Results are any `Serialize`/`DeserializeOwned` type; `Value`
//! takes anything.
//!
//! # Exceptions
//!
//! A Java provider's exception reaches a Rust caller as a [`Status`] (code `UNKNOWN` unless
//! the peer said otherwise) whose source is the decoded [`JavaThrowable`]:
//! [`java_exception`] returns it, with its class name, message, cause chain and stack trace.
//! A Rust handler picks the exception a Java caller sees with [`exception_status`]; any other
//! `Status` reaches a Java caller as a `java.lang.RuntimeException` carrying the status
//! message.
//!
//! ```
//! use dubbo_runtime::java::{JavaThrowable, exception_status, java_exception};
//! let status = exception_status(JavaThrowable::new(
//!     "java.lang.IllegalStateException",
//!     Some("not ready".into()),
//! ));
//! assert_eq!(status.message(), "not ready");
//! let thrown = java_exception(&status).unwrap();
//! assert_eq!(thrown.class_name, "java.lang.IllegalStateException");
//! assert_eq!(thrown.message(), Some("not ready"));
//! ```

mod client;
pub mod jvm;
mod service;

pub(crate) use client::RETURN_KEY;
pub use client::{JavaClient, JavaClientBuilder};
pub use service::{JavaService, JavaServiceBuilder};

/// A Java `Throwable` as it travels in Hessian (re-exported from
/// [`hessian2::java`](crate::hessian2::java)).
pub use dubbo_hessian2::java::JavaThrowable;

use crate::status::{Code, Status};

/// A status that carries `throwable`: a Dubbo2 provider sends it to the caller as that
/// exception (class, message, cause). The status has code `UNKNOWN` and the throwable's
/// message (its class name when it has none).
pub fn exception_status(throwable: JavaThrowable) -> Status {
    let message = throwable
        .message()
        .map_or_else(|| throwable.class_name.clone(), str::to_owned);
    Status::new(Code::Unknown, message).with_source(throwable)
}

/// The Java exception a status carries: one a Java provider threw (decoded by the Dubbo2
/// client), or one a handler attached with [`exception_status`].
pub fn java_exception(status: &Status) -> Option<&JavaThrowable> {
    std::error::Error::source(status)?.downcast_ref::<JavaThrowable>()
}

/// What a provider sends for an error status: the throwable it carries, or a
/// `java.lang.RuntimeException` with the status message.
pub(crate) fn throwable_of(status: &Status) -> JavaThrowable {
    match java_exception(status) {
        Some(t) => t.clone(),
        None => JavaThrowable::runtime_exception(status.message()),
    }
}

/// The code a Java exception maps to when the peer did not send one: Dubbo's `RpcException`
/// codes as Java's Triple maps them (DESIGN spec §1.8.2), `TimeoutException` as
/// `DEADLINE_EXCEEDED`, everything else `UNKNOWN`.
pub(crate) fn code_of(throwable: &JavaThrowable) -> Code {
    let class = throwable.class_name.as_str();
    if class.ends_with(".TimeoutException") {
        return Code::DeadlineExceeded;
    }
    if class == "org.apache.dubbo.rpc.RpcException" || class == "com.alibaba.dubbo.rpc.RpcException"
    {
        let code = throwable
            .extra_fields
            .iter()
            .find(|(k, _)| k == "code")
            .and_then(|(_, v)| v.as_i32());
        return match code {
            Some(2 | 8) => Code::DeadlineExceeded,
            Some(4) => Code::PermissionDenied,
            Some(13) => Code::Unauthenticated,
            Some(1 | 7) => Code::Unavailable,
            Some(11) => Code::NotFound,
            Some(5) => Code::Internal,
            _ => Code::Unknown,
        };
    }
    Code::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hessian2::Value;

    #[test]
    fn statuses_without_a_throwable_become_runtime_exceptions() {
        let t = throwable_of(&Status::not_found("gone"));
        assert_eq!(t.class_name, "java.lang.RuntimeException");
        assert_eq!(t.message(), Some("gone"));
        let custom = JavaThrowable::new("com.foo.BizException", None);
        let status = exception_status(custom.clone());
        assert_eq!(status.message(), "com.foo.BizException");
        assert_eq!(throwable_of(&status), custom);
        assert!(java_exception(&Status::internal("x")).is_none());
    }

    #[test]
    fn rpc_exception_codes_map_like_java_triple() {
        let mut e = JavaThrowable::new("org.apache.dubbo.rpc.RpcException", None);
        e.extra_fields.push(("code".into(), Value::Int(2)));
        assert_eq!(code_of(&e), Code::DeadlineExceeded);
        e.extra_fields[0].1 = Value::Int(4);
        assert_eq!(code_of(&e), Code::PermissionDenied);
        e.extra_fields[0].1 = Value::Int(3);
        assert_eq!(code_of(&e), Code::Unknown);
        let t = JavaThrowable::new("java.util.concurrent.TimeoutException", None);
        assert_eq!(code_of(&t), Code::DeadlineExceeded);
        let r = JavaThrowable::runtime_exception("x");
        assert_eq!(code_of(&r), Code::Unknown);
    }
}
