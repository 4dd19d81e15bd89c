//! Generation options shared by the `build.rs` builder and the protoc plugin, so both produce
//! the same code for the same settings.

use std::fmt;

/// What to generate and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) build_client: bool,
    pub(crate) build_server: bool,
    /// Derive serde on messages so they travel as Hessian objects over `dubbo://`.
    pub(crate) hessian: bool,
    pub(crate) type_attributes: Vec<(String, String)>,
    pub(crate) message_attributes: Vec<(String, String)>,
    pub(crate) enum_attributes: Vec<(String, String)>,
    pub(crate) field_attributes: Vec<(String, String)>,
    pub(crate) extern_paths: Vec<(String, String)>,
    pub(crate) bytes: Vec<String>,
    pub(crate) btree_map: Vec<String>,
    pub(crate) disable_comments: Vec<String>,
    pub(crate) include_file: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            build_client: true,
            build_server: true,
            hessian: true,
            type_attributes: Vec::new(),
            message_attributes: Vec::new(),
            enum_attributes: Vec::new(),
            field_attributes: Vec::new(),
            extern_paths: Vec::new(),
            bytes: Vec::new(),
            btree_map: Vec::new(),
            disable_comments: Vec::new(),
            include_file: None,
        }
    }
}

/// A malformed plugin parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionError(pub(crate) String);

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a plugin parameter string on commas that are not inside brackets, parentheses,
/// braces or quotes, so `type_attribute=.=#[derive(Eq, Hash)]` stays one option.
pub(crate) fn split_parameter(parameter: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_quotes = false;
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in parameter.char_indices() {
        if in_quotes {
            match c {
                '\\' if !escaped => {
                    escaped = true;
                    continue;
                }
                '"' if !escaped => in_quotes = false,
                _ => {}
            }
            escaped = false;
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&parameter[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&parameter[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_bool(name: &str, value: Option<&str>) -> Result<bool, OptionError> {
    match value {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(OptionError(format!(
            "option {name} takes true or false, not {other:?}"
        ))),
    }
}

fn parse_pair(name: &str, value: Option<&str>) -> Result<(String, String), OptionError> {
    let value = value
        .ok_or_else(|| OptionError(format!("option {name} needs a value: {name}=PATH=VALUE")))?;
    match value.split_once('=') {
        Some((path, rest)) if !path.is_empty() && !rest.is_empty() => {
            Ok((path.to_owned(), rest.to_owned()))
        }
        _ => Err(OptionError(format!(
            "option {name} must look like {name}=PATH=VALUE, got {value:?}"
        ))),
    }
}

impl Options {
    /// Parses a protoc `--dubbo-rust_opt=` parameter string.
    pub(crate) fn from_parameter(parameter: &str) -> Result<Options, OptionError> {
        let mut options = Options::default();
        for item in split_parameter(parameter) {
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (item, None),
            };
            match name {
                "build_client" => options.build_client = parse_bool(name, value)?,
                "build_server" => options.build_server = parse_bool(name, value)?,
                "hessian" => options.hessian = parse_bool(name, value)?,
                "extern_path" => options.extern_paths.push(parse_pair(name, value)?),
                "type_attribute" => options.type_attributes.push(parse_pair(name, value)?),
                "message_attribute" => options.message_attributes.push(parse_pair(name, value)?),
                "enum_attribute" => options.enum_attributes.push(parse_pair(name, value)?),
                "field_attribute" => options.field_attributes.push(parse_pair(name, value)?),
                "bytes" => options.bytes.push(
                    value
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| {
                            OptionError("option bytes needs a value: bytes=PATH".into())
                        })?
                        .to_owned(),
                ),
                "btree_map" => options.btree_map.push(
                    value
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| {
                            OptionError("option btree_map needs a value: btree_map=PATH".into())
                        })?
                        .to_owned(),
                ),
                "disable_comments" => options
                    .disable_comments
                    .push(value.unwrap_or(".").to_owned()),
                "include_file" => {
                    let file = value.filter(|v| !v.is_empty()).ok_or_else(|| {
                        OptionError("option include_file needs a file name".into())
                    })?;
                    if file.contains('/') || file.contains('\\') {
                        return Err(OptionError(format!(
                            "include_file must be a plain file name, got {file:?}"
                        )));
                    }
                    options.include_file = Some(file.to_owned());
                }
                other => {
                    return Err(OptionError(format!(
                        "unknown option {other:?}; known options: build_client, build_server, hessian, \
                         extern_path, type_attribute, message_attribute, enum_attribute, field_attribute, \
                         bytes, btree_map, disable_comments, include_file"
                    )));
                }
            }
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_brackets_and_quotes() {
        assert_eq!(
            split_parameter(
                "build_client=false, type_attribute=.=#[derive(Eq, Hash)],include_file=mod.rs"
            ),
            vec![
                "build_client=false",
                "type_attribute=.=#[derive(Eq, Hash)]",
                "include_file=mod.rs"
            ]
        );
        assert_eq!(
            split_parameter(r#"type_attribute=.a=#[doc = "x, y"],,"#),
            vec![r#"type_attribute=.a=#[doc = "x, y"]"#]
        );
    }

    #[test]
    fn parses_every_option() {
        let o = Options::from_parameter(
            "build_client=false,build_server,extern_path=.google.type=::gtype,include_file=protos.rs,\
             type_attribute=.pkg.Msg=#[derive(Eq)],bytes=.pkg,btree_map=.,hessian=false",
        )
        .unwrap();
        assert!(!o.build_client);
        assert!(o.build_server);
        assert!(!o.hessian);
        assert_eq!(
            o.extern_paths,
            vec![(".google.type".into(), "::gtype".into())]
        );
        assert_eq!(o.include_file.as_deref(), Some("protos.rs"));
        assert_eq!(
            o.type_attributes,
            vec![(".pkg.Msg".into(), "#[derive(Eq)]".into())]
        );
        assert_eq!(o.bytes, vec![".pkg".to_owned()]);
        assert_eq!(Options::from_parameter("").unwrap(), Options::default());
    }

    #[test]
    fn rejects_bad_options() {
        for bad in [
            "nope",
            "build_client=maybe",
            "extern_path=.pkg",
            "extern_path",
            "type_attribute==x",
            "include_file=",
            "include_file=a/b.rs",
            "bytes",
        ] {
            let err = Options::from_parameter(bad).unwrap_err();
            assert!(!err.0.is_empty(), "{bad}");
        }
    }
}
