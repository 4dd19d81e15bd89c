//! `org.apache.dubbo.sample.DemoService` (version 1.0.0), the Java interface every Dubbo2
//! peer in the interop tests serves, implemented in Rust without generated code:
//!
//! ```java
//! public interface DemoService {
//!     String sayHello(String name);   // "Hello " + name
//!     Object echo(Object value);      // value
//!     String fail(String message);    // throws IllegalStateException(message)
//! }
//! ```

use dubbo_runtime::hessian2::Value;
use dubbo_runtime::java::{JavaService, JavaThrowable, exception_status};
use dubbo_runtime::{Request, Status};

/// The interface name.
pub const DEMO_SERVICE: &str = "org.apache.dubbo.sample.DemoService";
/// The version it is exported with.
pub const DEMO_VERSION: &str = "1.0.0";
/// The exception class `fail` throws.
pub const FAIL_EXCEPTION: &str = "java.lang.IllegalStateException";

/// Builds the service.
pub fn demo_service() -> Result<JavaService, dubbo_runtime::Error> {
    JavaService::builder(DEMO_SERVICE)
        .method(
            "sayHello",
            &["java.lang.String"],
            |req: Request<(String,)>| async move {
                let (name,) = req.into_inner();
                Ok::<_, Status>(format!("Hello {name}"))
            },
        )
        .method(
            "echo",
            &["java.lang.Object"],
            |req: Request<(Value,)>| async move { Ok::<_, Status>(req.into_inner().0) },
        )
        .method(
            "fail",
            &["java.lang.String"],
            |req: Request<(String,)>| async move {
                let (message,) = req.into_inner();
                Err::<String, _>(exception_status(JavaThrowable::new(
                    FAIL_EXCEPTION,
                    Some(message),
                )))
            },
        )
        .build()
}
