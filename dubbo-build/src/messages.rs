//! Post-processing of prost's output: every message gets a `Message` impl naming its Java
//! class, and (unless Hessian support is off) serde derives so it can travel as a Hessian
//! object over `dubbo://`. Done on the syntax tree, so each attribute lands on exactly one item.

use std::collections::HashMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use prost_types::{DescriptorProto, FileDescriptorSet};
use quote::quote;
use syn::{Attribute, Field, Fields, Item, parse_quote};

/// Java class names of messages, keyed by where prost puts their Rust type:
/// (package module, nested module path, type name).
#[derive(Debug, Default)]
pub(crate) struct JavaNames {
    classes: HashMap<(String, Vec<String>, String), String>,
}

/// prost's identifier escaping (keywords become raw identifiers or get a `_` suffix).
fn sanitize(ident: String) -> String {
    match ident.as_str() {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{ident}"),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
        s if s.starts_with(|c: char| c.is_numeric()) => format!("_{ident}"),
        _ => ident,
    }
}

pub(crate) fn rust_module_name(proto: &str) -> String {
    sanitize(proto.to_snake_case())
}

fn rust_type_name(proto: &str) -> String {
    sanitize(proto.to_upper_camel_case())
}

/// The package module key prost uses (`a.b` → `a.b` with each part snake-cased).
pub(crate) fn package_key(package: &str) -> String {
    package
        .split('.')
        .filter(|s| !s.is_empty())
        .map(rust_module_name)
        .collect::<Vec<_>>()
        .join(".")
}

impl JavaNames {
    pub(crate) fn from_fds(fds: &FileDescriptorSet) -> JavaNames {
        let mut names = JavaNames::default();
        for file in &fds.file {
            let package = file.package().to_owned();
            let java_package = file
                .options
                .as_ref()
                .and_then(|o| o.java_package.clone())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| package.clone());
            let key = package_key(&package);
            for message in &file.message_type {
                names.add(
                    &key,
                    &java_package,
                    &mut Vec::new(),
                    &mut Vec::new(),
                    message,
                );
            }
        }
        names
    }

    fn add(
        &mut self,
        package_key: &str,
        java_package: &str,
        rust_path: &mut Vec<String>,
        java_outer: &mut Vec<String>,
        message: &DescriptorProto,
    ) {
        if message.options.as_ref().and_then(|o| o.map_entry) == Some(true) {
            return;
        }
        let name = message.name();
        let mut java = java_outer.clone();
        java.push(name.to_owned());
        let class = if java_package.is_empty() {
            java.join("$")
        } else {
            format!("{java_package}.{}", java.join("$"))
        };
        self.classes.insert(
            (
                package_key.to_owned(),
                rust_path.clone(),
                rust_type_name(name),
            ),
            class,
        );
        rust_path.push(rust_module_name(name));
        java_outer.push(name.to_owned());
        for nested in &message.nested_type {
            self.add(package_key, java_package, rust_path, java_outer, nested);
        }
        rust_path.pop();
        java_outer.pop();
    }

    fn get(&self, package_key: &str, path: &[String], name: &str) -> Option<&str> {
        self.classes
            .get(&(package_key.to_owned(), path.to_vec(), name.to_owned()))
            .map(String::as_str)
    }
}

/// Rewrites one generated module (prost output plus our services).
pub(crate) fn postprocess(
    code: &str,
    package_key: &str,
    java: &JavaNames,
    hessian: bool,
) -> Result<String, String> {
    let mut file =
        syn::parse_file(code).map_err(|e| format!("generated code does not parse: {e}"))?;
    let mut path = Vec::new();
    process_items(&mut file.items, package_key, &mut path, java, hessian);
    Ok(prettyplease::unparse(&file))
}

fn derives(attrs: &[Attribute], what: &str) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && attr.meta.require_list().is_ok_and(|list| {
                let tokens = list.tokens.to_string();
                tokens.contains("prost") && tokens.split([',', ':', ' ']).any(|t| t == what)
            })
    })
}

fn serde_derive() -> Attribute {
    parse_quote! {
        #[derive(::dubbo_runtime::codegen::serde::Serialize, ::dubbo_runtime::codegen::serde::Deserialize)]
    }
}

fn process_items(
    items: &mut Vec<Item>,
    package_key: &str,
    path: &mut Vec<String>,
    java: &JavaNames,
    hessian: bool,
) {
    let mut impls = Vec::new();
    for (index, item) in items.iter_mut().enumerate() {
        match item {
            Item::Struct(s) if derives(&s.attrs, "Message") => {
                let name = s.ident.to_string();
                let class = java
                    .get(package_key, path, &name)
                    .map(str::to_owned)
                    .unwrap_or_else(|| name.trim_start_matches("r#").to_owned());
                if hessian {
                    s.attrs.push(serde_derive());
                    s.attrs.push(parse_quote! {
                        #[serde(crate = "::dubbo_runtime::codegen::serde", rename = #class, rename_all = "camelCase", default)]
                    });
                    if let Fields::Named(fields) = &mut s.fields {
                        for field in fields.named.iter_mut() {
                            annotate_field(field);
                        }
                    }
                }
                let ty = &s.ident;
                let protocol = if hessian {
                    quote!(serde)
                } else {
                    quote!(protobuf_only)
                };
                impls.push((
                    index,
                    parse_quote! {
                        ::dubbo_runtime::codegen::impl_message!(#ty, #class, #protocol);
                    },
                ));
            }
            Item::Enum(e) if hessian && derives(&e.attrs, "Oneof") => {
                e.attrs.push(serde_derive());
                e.attrs.push(parse_quote! {
                    #[serde(crate = "::dubbo_runtime::codegen::serde", rename_all = "camelCase")]
                });
                for variant in e.variants.iter_mut() {
                    // prost puts its field attribute on the variant itself.
                    if let Some(field) = variant.fields.iter().next()
                        && let Some(with) = adapter_for(&variant.attrs, &field.ty)
                    {
                        variant.attrs.push(parse_quote!(#[serde(with = #with)]));
                    }
                }
            }
            Item::Mod(m) => {
                if let Some((_, content)) = &mut m.content {
                    path.push(m.ident.to_string());
                    process_items(content, package_key, path, java, hessian);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    for (offset, (index, item)) in impls.into_iter().enumerate() {
        items.insert(index + 1 + offset, item);
    }
}

fn annotate_field(field: &mut Field) {
    if let Some(with) = adapter_for(&field.attrs, &field.ty) {
        field.attrs.push(parse_quote!(#[serde(with = #with)]));
    }
}

/// The outermost type constructor of a field type and its first generic argument.
fn outer(ty: &syn::Type) -> Option<(String, Option<&syn::Type>)> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let first_arg = match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((last.ident.to_string(), first_arg))
}

/// Which adapter module fits the field's shape.
fn shape(ty: &syn::Type, bytes: bool) -> &'static str {
    match outer(ty) {
        Some((name, _)) if name == "Option" => "option",
        Some((name, _)) if name == "HashMap" || name == "BTreeMap" => "map",
        Some((name, Some(inner))) if name == "Vec" => {
            let inner_is_leaf = matches!(
                outer(inner),
                Some((n, _)) if n == "Vec" || n == "Bytes"
            );
            if bytes && !inner_is_leaf {
                "single"
            } else {
                "vec"
            }
        }
        _ => "single",
    }
}

/// The serde adapter a field needs: protobuf `bytes` become Hessian binary, and well-known
/// types (which have no serde impls) go through our own mapping.
fn adapter_for(attrs: &[Attribute], ty: &syn::Type) -> Option<String> {
    let prost = attrs.iter().find(|a| a.path().is_ident("prost"))?;
    let mut is_bytes = false;
    let parsed = prost.parse_nested_meta(|meta| {
        if meta.path.is_ident("bytes") {
            is_bytes = true;
        }
        if meta.input.peek(syn::Token![=]) {
            let value: syn::Expr = meta.value()?.parse()?;
            if meta.path.is_ident("map")
                && let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &value
                && s.value()
                    .rsplit(',')
                    .next()
                    .is_some_and(|v| v.trim() == "bytes")
            {
                is_bytes = true;
            }
        }
        Ok(())
    });
    if parsed.is_err() {
        return None;
    }
    if is_bytes {
        return Some(format!(
            "::dubbo_runtime::codegen::serde_bytes::{}",
            shape(ty, true)
        ));
    }
    let rendered = quote!(#ty).to_string();
    if rendered.contains("prost_types ::") {
        return Some(format!(
            "::dubbo_runtime::codegen::serde_wkt::{}",
            shape(ty, false)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_match_prost() {
        assert_eq!(rust_module_name("HelloRequest"), "hello_request");
        assert_eq!(rust_module_name("type"), "r#type");
        assert_eq!(rust_type_name("hello_request"), "HelloRequest");
        assert_eq!(rust_type_name("Self"), "Self_");
        assert_eq!(
            package_key("org.apache.dubbo.sample"),
            "org.apache.dubbo.sample"
        );
        assert_eq!(package_key("Foo.BarBaz"), "foo.bar_baz");
    }
}
