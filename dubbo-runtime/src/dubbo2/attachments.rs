//! Attachments (the body's string-keyed map) ↔ [`Metadata`].
//!
//! Strings, numbers and booleans become ASCII metadata values (keys lower-cased, as metadata
//! keys are); binary values travel under keys ending in `-bin`. Values that metadata cannot
//! hold (non-ASCII text, objects) are skipped.

use std::time::Duration;

use super::codec::Attachments;
use crate::hessian2::Value;
use crate::metadata::{Metadata, is_binary_key};

/// Attachments that repeat what the invocation already says (its target) or that only the
/// protocol reads; left out of the metadata handed to services.
const TARGET_KEYS: [&str; 4] = ["path", "interface", "version", "group"];

/// Metadata for the attachments of a request (without the service-target keys `path`,
/// `interface`, `version` and `group`, which are the invocation's target).
pub fn request_metadata(attachments: &Attachments<'_>) -> Metadata {
    match attachments {
        Attachments::Values(entries) => convert(entries, true),
        Attachments::Text(pairs) => {
            let mut md = Metadata::new();
            for (key, value) in pairs {
                if !TARGET_KEYS.contains(&&**key) {
                    logged(key, md.append(key, value));
                }
            }
            md
        }
    }
}

/// Metadata for the attachment pairs of a response.
pub fn to_metadata(entries: &[(Value, Value)]) -> Metadata {
    convert(entries, false)
}

fn convert(entries: &[(Value, Value)], skip_target: bool) -> Metadata {
    let mut md = Metadata::new();
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        if skip_target && TARGET_KEYS.contains(&key) {
            continue;
        }
        let result = match v {
            Value::String(s) => md.append(key, s),
            Value::Int(i) => md.append(key, &i.to_string()),
            Value::Long(l) => md.append(key, &l.to_string()),
            Value::Bool(b) => md.append(key, if *b { "true" } else { "false" }),
            Value::Double(d) => md.append(key, &d.to_string()),
            Value::Binary(b) if is_binary_key(key) => md.insert_bin(key, b),
            _ => continue,
        };
        logged(key, result);
    }
    md
}

/// Logs an attachment that metadata could not take.
fn logged<E: std::fmt::Display>(key: &str, result: Result<(), E>) {
    if let Err(err) = result {
        tracing::trace!(key, error = %err, "attachment not representable as metadata");
    }
}

/// Appends metadata entries as attachment pairs (`-bin` values decoded to binary).
pub fn push_metadata(md: &Metadata, out: &mut Vec<(Value, Value)>) {
    for (key, value) in md.iter() {
        let v = if is_binary_key(key) {
            match crate::metadata::decode_binary(value) {
                Ok(bytes) => Value::Binary(bytes),
                Err(_) => continue,
            }
        } else {
            match std::str::from_utf8(value) {
                Ok(s) => Value::String(s.to_owned()),
                Err(_) => continue,
            }
        };
        out.push((Value::String(key.to_owned()), v));
    }
}

/// The `timeout` attachment (milliseconds, a decimal string or a number) as a duration.
pub fn timeout(attachments: &Attachments<'_>) -> Option<Duration> {
    let ms = match attachments {
        Attachments::Text(_) => attachments.get("timeout")?.trim().parse::<u64>().ok()?,
        Attachments::Values(entries) => {
            let (_, v) = entries
                .iter()
                .find(|(k, _)| k.as_str() == Some("timeout"))?;
            match v {
                Value::String(s) => s.trim().parse::<u64>().ok()?,
                other => u64::try_from(other.as_i64()?).ok()?,
            }
        }
    };
    (ms > 0).then(|| Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_round_trip_through_metadata() {
        let entries = vec![
            ("Path".into(), "demo.Greeter".into()),
            ("timeout".into(), "3000".into()),
            ("n".into(), Value::Int(3)),
            ("flag".into(), Value::Bool(true)),
            ("x-bin".into(), Value::Binary(vec![0, 255])),
            ("odd".into(), Value::from("中")),
            ("obj".into(), Value::map(vec![])),
            (Value::Int(1), "x".into()),
        ];
        let md = to_metadata(&entries);
        assert_eq!(md.get("path"), Some("demo.Greeter"));
        assert_eq!(md.get("n"), Some("3"));
        assert_eq!(md.get("flag"), Some("true"));
        assert_eq!(md.get_bin("x-bin").unwrap().unwrap(), vec![0, 255]);
        assert!(!md.contains_key("obj"));
        // Non-ASCII text is kept as raw bytes and travels back unchanged.
        assert_eq!(
            md.as_headers().get("odd").unwrap().as_bytes(),
            "中".as_bytes()
        );
        let mut back = Vec::new();
        push_metadata(&md, &mut back);
        assert!(back.contains(&("x-bin".into(), Value::Binary(vec![0, 255]))));
        assert!(back.contains(&("timeout".into(), "3000".into())));
        assert!(back.contains(&("odd".into(), "中".into())));
        assert_eq!(
            timeout(&Attachments::Values(entries)),
            Some(Duration::from_millis(3000))
        );
        let values = |e: &[(Value, Value)]| Attachments::Values(e.to_vec());
        let text = |e: &[(&'static str, &'static str)]| {
            Attachments::Text(e.iter().map(|&(k, v)| (k.into(), v.into())).collect())
        };
        let target = [("path", "a"), ("group", "g"), ("x", "y")];
        let as_values: Vec<(Value, Value)> =
            target.iter().map(|&(k, v)| (k.into(), v.into())).collect();
        for attachments in [text(&target), values(&as_values)] {
            let req = request_metadata(&attachments);
            assert_eq!(req.len(), 1);
            assert_eq!(req.get("x"), Some("y"));
            assert_eq!(attachments.get("group"), Some("g"));
        }
        assert_eq!(
            timeout(&values(&[("timeout".into(), Value::Int(5))])),
            Some(Duration::from_millis(5))
        );
        assert_eq!(
            timeout(&text(&[("timeout", " 250 ")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(timeout(&text(&[("timeout", "x")])), None);
        assert_eq!(timeout(&values(&[("timeout".into(), "x".into())])), None);
        assert_eq!(timeout(&values(&[("timeout".into(), Value::Int(0))])), None);
        assert_eq!(timeout(&text(&[])), None);
    }
}
