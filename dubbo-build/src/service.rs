//! Tokens for one service: its static descriptor, the server trait and dispatcher, and the
//! typed client. Generated code stays thin: the call logic lives in `dubbo_runtime`.

use heck::ToShoutySnakeCase;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Method, Service};
use crate::options::Options;

/// Client methods we define ourselves; an RPC with one of these names gets a `call_` prefix.
const RESERVED_CLIENT_NAMES: &[&str] = &["connect", "builder", "new", "client", "from_client"];

fn docs(lines: &[String]) -> TokenStream {
    let lines = lines.iter();
    quote! { #(#[doc = #lines])* }
}

/// The IDL comment of a method, or a one-line description when it has none.
fn method_docs(method: &Method, verb: &str) -> TokenStream {
    if method.docs.is_empty() {
        docs(&[format!(" {verb} the `{}` RPC.", method.proto_name)])
    } else {
        docs(&method.docs)
    }
}

/// Lints that generated code may trip in the user's crate.
fn allow_lints() -> TokenStream {
    quote! {
        #[allow(
            clippy::all,
            clippy::pedantic,
            clippy::nursery,
            unused_qualifications,
            non_camel_case_types
        )]
    }
}

fn ty(path: &str) -> TokenStream {
    // prost hands us valid Rust type paths; fall back to the raw tokens if not.
    match syn::parse_str::<syn::Type>(path) {
        Ok(t) => quote!(#t),
        Err(_) => path.parse().unwrap_or_else(|_| quote!(())),
    }
}

fn ident(name: &str) -> syn::Ident {
    syn::parse_str::<syn::Ident>(name)
        .unwrap_or_else(|_| format_ident!("{}_", name.trim_start_matches("r#")))
}

fn descriptor_ident(service: &Service) -> syn::Ident {
    format_ident!("{}_DESCRIPTOR", service.name.to_shouty_snake_case())
}

fn kind(method: &Method) -> TokenStream {
    match (method.client_streaming, method.server_streaming) {
        (false, false) => quote!(Unary),
        (false, true) => quote!(ServerStreaming),
        (true, false) => quote!(ClientStreaming),
        (true, true) => quote!(BidiStreaming),
    }
}

/// Everything generated for `service`.
pub(crate) fn generate(service: &Service, options: &Options) -> TokenStream {
    let descriptor = descriptor(service);
    let server = if options.build_server {
        server(service)
    } else {
        TokenStream::new()
    };
    let client = if options.build_client {
        client(service)
    } else {
        TokenStream::new()
    };
    quote! { #descriptor #server #client }
}

fn descriptor(service: &Service) -> TokenStream {
    let desc = descriptor_ident(service);
    let full_name = service.full_name();
    let doc = format!(" Describes the `{full_name}` service: its name and methods.");
    let methods = service.methods.iter().enumerate().map(|(index, m)| {
        let name = &m.proto_name;
        let path = format!("/{full_name}/{}", m.proto_name);
        let kind = kind(m);
        let index = Literal::usize_unsuffixed(index);
        let req = ty(&m.input_type);
        let resp = ty(&m.output_type);
        quote! {
            ::dubbo_runtime::codegen::MethodDescriptor {
                name: #name,
                path: #path,
                kind: ::dubbo_runtime::codegen::CallKind::#kind,
                index: #index,
                request_class: <#req as ::dubbo_runtime::codegen::Message>::JAVA_CLASS,
                response_class: <#resp as ::dubbo_runtime::codegen::Message>::JAVA_CLASS,
                hessian_request: ::core::option::Option::Some(
                    ::dubbo_runtime::codegen::hessian_request::<#req>,
                ),
            }
        }
    });
    quote! {
        #[doc = #doc]
        pub static #desc: ::dubbo_runtime::codegen::ServiceDescriptor =
            ::dubbo_runtime::codegen::ServiceDescriptor {
                name: #full_name,
                methods: &[#(#methods),*],
            };
    }
}

fn server(service: &Service) -> TokenStream {
    let trait_name = ident(&service.name);
    let server_name = format_ident!("{}Server", service.name);
    let desc = descriptor_ident(service);
    let full_name = service.full_name();
    let mut trait_docs = service.docs.clone();
    if trait_docs.is_empty() {
        trait_docs.push(format!(" Implement this to serve `{full_name}`."));
    }
    let trait_docs = docs(&trait_docs);
    let trait_methods = service.methods.iter().map(|m| {
        let name = ident(&m.name);
        let method_docs = method_docs(m, "Handles");
        let req = ty(&m.input_type);
        let resp = ty(&m.output_type);
        let req = if m.client_streaming {
            quote!(::dubbo_runtime::codegen::Streaming<#req>)
        } else {
            req
        };
        let resp = if m.server_streaming {
            quote!(::dubbo_runtime::codegen::BoxStream<#resp>)
        } else {
            resp
        };
        quote! {
            #method_docs
            fn #name(
                &self,
                request: ::dubbo_runtime::codegen::Request<#req>,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<
                    ::dubbo_runtime::codegen::Response<#resp>,
                    ::dubbo_runtime::codegen::Status,
                >,
            > + ::core::marker::Send;
        }
    });
    let dispatch = if service.methods.is_empty() {
        quote! { ::dubbo_runtime::codegen::unimplemented(invocation) }
    } else {
        let arms = service.methods.iter().enumerate().map(|(index, m)| {
            let name = ident(&m.name);
            let index = Literal::usize_unsuffixed(index);
            let helper = match (m.client_streaming, m.server_streaming) {
                (false, false) => quote!(unary),
                (false, true) => quote!(server_streaming),
                (true, false) => quote!(client_streaming),
                (true, true) => quote!(bidi_streaming),
            };
            quote! {
                #index => ::dubbo_runtime::codegen::#helper(invocation, move |request| async move {
                    inner.#name(request).await
                }),
            }
        });
        quote! {
            let inner = ::dubbo_runtime::codegen::Arc::clone(&self.inner);
            match invocation.method().index {
                #(#arms)*
                _ => ::dubbo_runtime::codegen::unimplemented(invocation),
            }
        }
    };
    let server_doc = format!(
        " Serves a [`{}`] implementation as `{full_name}`.",
        service.name
    );
    let allow = allow_lints();
    quote! {
        #trait_docs
        #allow
        pub trait #trait_name: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#trait_methods)*
        }

        #[doc = #server_doc]
        #[derive(Debug)]
        pub struct #server_name<T> {
            inner: ::dubbo_runtime::codegen::Arc<T>,
        }

        impl<T> #server_name<T> {
            /// Wraps an implementation.
            pub fn new(inner: T) -> Self {
                Self { inner: ::dubbo_runtime::codegen::Arc::new(inner) }
            }

            /// Wraps a shared implementation.
            pub fn from_arc(inner: ::dubbo_runtime::codegen::Arc<T>) -> Self {
                Self { inner }
            }

            /// The implementation.
            pub fn get_ref(&self) -> &T {
                &self.inner
            }
        }

        impl<T> ::core::clone::Clone for #server_name<T> {
            fn clone(&self) -> Self {
                Self { inner: ::dubbo_runtime::codegen::Arc::clone(&self.inner) }
            }
        }

        #allow
        impl<T: #trait_name> ::dubbo_runtime::codegen::Service for #server_name<T> {
            fn descriptor(&self) -> &'static ::dubbo_runtime::codegen::ServiceDescriptor {
                &#desc
            }

            fn call(
                &self,
                invocation: ::dubbo_runtime::codegen::Invocation,
            ) -> ::dubbo_runtime::codegen::BoxFuture<
                'static,
                ::core::result::Result<
                    ::dubbo_runtime::codegen::Reply,
                    ::dubbo_runtime::codegen::Status,
                >,
            > {
                #dispatch
            }
        }
    }
}

fn client(service: &Service) -> TokenStream {
    let client_name = format_ident!("{}Client", service.name);
    let desc = descriptor_ident(service);
    let full_name = service.full_name();
    let methods = service.methods.iter().enumerate().map(|(index, m)| {
        let rust_name = if RESERVED_CLIENT_NAMES.contains(&m.name.as_str()) {
            format!("call_{}", m.name)
        } else {
            m.name.clone()
        };
        let name = ident(&rust_name);
        let method_docs = method_docs(m, "Calls");
        let req = ty(&m.input_type);
        let resp = ty(&m.output_type);
        let index = Literal::usize_unsuffixed(index);
        let method_ref = quote!(&#desc.methods[#index]);
        match (m.client_streaming, m.server_streaming) {
            (false, false) => quote! {
                #method_docs
                pub async fn #name(
                    &self,
                    request: impl ::dubbo_runtime::codegen::IntoRequest<#req>,
                ) -> ::core::result::Result<
                    ::dubbo_runtime::codegen::Response<#resp>,
                    ::dubbo_runtime::codegen::Status,
                > {
                    self.inner.unary(#method_ref, request.into_request()).await
                }
            },
            (false, true) => quote! {
                #method_docs
                pub async fn #name(
                    &self,
                    request: impl ::dubbo_runtime::codegen::IntoRequest<#req>,
                ) -> ::core::result::Result<
                    ::dubbo_runtime::codegen::Response<::dubbo_runtime::codegen::Streaming<#resp>>,
                    ::dubbo_runtime::codegen::Status,
                > {
                    self.inner.server_streaming(#method_ref, request.into_request()).await
                }
            },
            (true, false) => quote! {
                #method_docs
                pub async fn #name(
                    &self,
                    request: impl ::dubbo_runtime::codegen::IntoStreamingRequest<Message = #req>,
                ) -> ::core::result::Result<
                    ::dubbo_runtime::codegen::Response<#resp>,
                    ::dubbo_runtime::codegen::Status,
                > {
                    self.inner
                        .client_streaming(#method_ref, request.into_streaming_request())
                        .await
                }
            },
            (true, true) => quote! {
                #method_docs
                pub async fn #name(
                    &self,
                    request: impl ::dubbo_runtime::codegen::IntoStreamingRequest<Message = #req>,
                ) -> ::core::result::Result<
                    ::dubbo_runtime::codegen::Response<::dubbo_runtime::codegen::Streaming<#resp>>,
                    ::dubbo_runtime::codegen::Status,
                > {
                    self.inner
                        .bidi_streaming(#method_ref, request.into_streaming_request())
                        .await
                }
            },
        }
    });
    let allow = allow_lints();
    let client_doc = format!(
        " Calls `{full_name}`. Cheap to clone; every method takes `&self`, so one client \
         serves many concurrent calls."
    );
    quote! {
        #[doc = #client_doc]
        #[derive(Debug, Clone)]
        pub struct #client_name {
            inner: ::dubbo_runtime::codegen::Client,
        }

        #allow
        impl #client_name {
            /// Connects to a provider (`tri://host:port`) with default settings.
            pub async fn connect(
                url: impl ::dubbo_runtime::codegen::IntoUrl,
            ) -> ::core::result::Result<Self, ::dubbo_runtime::codegen::Error> {
                Self::builder(url).connect().await
            }

            /// Starts configuring a client (version, group, timeout, …).
            pub fn builder(
                url: impl ::dubbo_runtime::codegen::IntoUrl,
            ) -> ::dubbo_runtime::codegen::ClientBuilder<Self> {
                ::dubbo_runtime::codegen::ClientBuilder::new(url)
            }

            /// Wraps a configured client.
            pub fn new(inner: ::dubbo_runtime::codegen::Client) -> Self {
                Self { inner }
            }

            /// The underlying client.
            pub fn client(&self) -> &::dubbo_runtime::codegen::Client {
                &self.inner
            }

            #(#methods)*
        }

        impl ::dubbo_runtime::codegen::ClientStub for #client_name {
            const SERVICE: &'static ::dubbo_runtime::codegen::ServiceDescriptor = &#desc;

            fn from_client(client: ::dubbo_runtime::codegen::Client) -> Self {
                Self { inner: client }
            }
        }
    }
}
