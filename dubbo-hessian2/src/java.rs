//! Typed helpers for the Java types hessian-lite peers send and expect
//! (wire spec §4.3).
//!
//! All of them implement `Serialize` and `Deserialize`, so they can be
//! written with [`Encoder::serialize`](crate::Encoder::serialize), placed
//! inside `#[derive(Serialize, Deserialize)]` structs, or converted with
//! [`to_value`](crate::to_value) / [`from_value`](crate::from_value()).

use std::fmt;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::de::from_value;
use crate::magic;
use crate::value::Value;

fn via_value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Value::deserialize(d)
}

fn field_str(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(Value::as_str).map(str::to_owned)
}

// ---------------------------------------------------------------------------
// Date

/// A `java.util.Date`: milliseconds since the Unix epoch, UTC. Written as a
/// Hessian date (`4a`/`4b`), not as an object.
///
/// ```
/// use dubbo_hessian2::{java, to_vec, from_slice};
/// let bytes = to_vec(&java::Date(894_621_091_000)).unwrap();
/// assert_eq!(bytes, [0x4a, 0x00, 0x00, 0x00, 0xd0, 0x4b, 0x92, 0x84, 0xb8]);
/// assert_eq!(from_slice::<java::Date>(&bytes).unwrap(), java::Date(894_621_091_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date(pub i64);

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(magic::DATE_NEWTYPE, &self.0)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        struct DateVisitor;
        impl<'de> Visitor<'de> for DateVisitor {
            type Value = Date;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date (milliseconds since the epoch)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Date, E> {
                Ok(Date(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Date, E> {
                i64::try_from(v).map(Date).map_err(E::custom)
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Date, D::Error> {
                i64::deserialize(d).map(Date)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Date, A::Error> {
                // {"$date": ms}, the serde form of Value::Date
                let mut ms = None;
                while let Some(k) = map.next_key::<String>()? {
                    if k == magic::DATE {
                        ms = Some(map.next_value::<i64>()?);
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                ms.map(Date)
                    .ok_or_else(|| de::Error::missing_field(magic::DATE))
            }
        }
        d.deserialize_newtype_struct(magic::DATE_NEWTYPE, DateVisitor)
    }
}

// ---------------------------------------------------------------------------
// BigDecimal

/// A `java.math.BigDecimal`, carried as its `toString()` text: an object of
/// class `java.math.BigDecimal` with the single field `value`.
///
/// ```
/// use dubbo_hessian2::{java::BigDecimal, to_vec};
/// let bytes = to_vec(&BigDecimal("1.50".into())).unwrap();
/// assert_eq!(&bytes[..2], &[0x43, 0x14]); // C, 20-char class name
/// assert_eq!(&bytes[bytes.len() - 6..], &[0x60, 0x04, b'1', b'.', b'5', b'0']);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BigDecimal(pub String);

impl Serialize for BigDecimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("java.math.BigDecimal", 1)?;
        st.serialize_field("value", &self.0)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for BigDecimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<BigDecimal, D::Error> {
        let v = via_value(d)?;
        let text = match &v {
            Value::String(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Long(l) => Some(l.to_string()),
            Value::Double(x) => Some(x.to_string()),
            Value::Object { .. } | Value::Map { .. } => field_str(&v, "value"),
            _ => None,
        };
        text.map(BigDecimal)
            .ok_or_else(|| de::Error::custom("expected a java.math.BigDecimal"))
    }
}

// ---------------------------------------------------------------------------
// Enum

/// A Java enum constant with a class name chosen at run time: an object of
/// class `class` with the single field `name`. Within one stream, the
/// encoder writes a repeated constant as a reference.
///
/// (Rust enums with unit variants map to the same shape, with the serde enum
/// name as class: `#[serde(rename = "example.Color")] enum Color { RED, .. }`.)
///
/// ```
/// use dubbo_hessian2::{java, Encoder};
/// let red = java::Enum::new("example.Color", "RED");
/// let mut enc = Encoder::new();
/// enc.serialize(&red).unwrap();
/// enc.serialize(&red).unwrap();
/// assert!(enc.as_bytes().ends_with(&[0x51, 0x90]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Enum {
    /// Java enum class name.
    pub class: String,
    /// Constant name.
    pub name: String,
}

impl Enum {
    /// A constant `name` of enum class `class`.
    pub fn new(class: impl Into<String>, name: impl Into<String>) -> Self {
        Enum {
            class: class.into(),
            name: name.into(),
        }
    }
}

impl Serialize for Enum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(magic::CLASS, &self.class)?;
        m.serialize_entry("name", &self.name)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Enum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Enum, D::Error> {
        match via_value(d)? {
            Value::String(name) => Ok(Enum {
                class: String::new(),
                name,
            }),
            v => match field_str(&v, "name") {
                Some(name) => Ok(Enum {
                    class: v.class_name().map(str::to_owned).unwrap_or_default(),
                    name,
                }),
                None => Err(de::Error::custom("expected a Java enum constant")),
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Typed lists and arrays

/// A Hessian typed list: a Java collection other than `ArrayList`
/// (`java.util.LinkedList`, `java.util.HashSet`, …) or an array with an
/// explicit type name such as `"[example.Pair"`.
///
/// ```
/// use dubbo_hessian2::{java::TypedList, to_vec};
/// let set = TypedList::new("java.util.HashSet", vec![1]);
/// assert_eq!(to_vec(&set).unwrap()[..2], [0x71, 0x11]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypedList<T> {
    /// Hessian type name.
    pub type_name: String,
    /// Elements.
    pub items: Vec<T>,
}

impl<T> TypedList<T> {
    /// A list of type `type_name`.
    pub fn new(type_name: impl Into<String>, items: Vec<T>) -> Self {
        TypedList {
            type_name: type_name.into(),
            items,
        }
    }
}

impl<T: Serialize> Serialize for TypedList<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(magic::LIST, &self.type_name)?;
        m.serialize_entry(magic::ITEMS, &self.items)?;
        m.end()
    }
}

fn items_of<T: DeserializeOwned, E: de::Error>(items: Vec<Value>) -> Result<Vec<T>, E> {
    items
        .into_iter()
        .map(|i| from_value(i).map_err(E::custom))
        .collect()
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for TypedList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match via_value(d)? {
            Value::List { type_name, items } => Ok(TypedList {
                type_name: type_name.unwrap_or_default(),
                items: items_of(items)?,
            }),
            _ => Err(de::Error::custom("expected a list")),
        }
    }
}

/// Element types of Java arrays, with the Hessian type name of the array.
pub trait ArrayElement {
    /// Hessian type of an array of this element, e.g. `"[int"`.
    const ARRAY_TYPE: &'static str;
}

macro_rules! array_element {
    ($($t:ty => $name:literal),* $(,)?) => {$(
        impl ArrayElement for $t {
            const ARRAY_TYPE: &'static str = $name;
        }
    )*};
}

array_element! {
    bool => "[boolean",
    i16 => "[short",
    i32 => "[int",
    i64 => "[long",
    f32 => "[float",
    f64 => "[double",
    String => "[string",
    Value => "[object",
}

/// A Java array: `Array<String>` is a `String[]` (`"[string"`),
/// `Array<Value>` an `Object[]` (`"[object"`), `Array<i32>` an `int[]`
/// (`"[int"`), and so on (see [`ArrayElement`]). `byte[]` is binary and
/// `char[]` a string in Hessian, so they have no `Array` form. For arrays
/// of other classes use [`TypedList`] with `"[" + class`.
///
/// ```
/// use dubbo_hessian2::{java::Array, to_vec};
/// assert_eq!(to_vec(&Array(vec![0i32, 1])).unwrap(), [0x72, 0x04, b'[', b'i', b'n', b't', 0x90, 0x91]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Array<T>(pub Vec<T>);

impl<T: Serialize + ArrayElement> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(magic::LIST, T::ARRAY_TYPE)?;
        m.serialize_entry(magic::ITEMS, &self.0)?;
        m.end()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match via_value(d)? {
            Value::List { items, .. } => Ok(Array(items_of(items)?)),
            _ => Err(de::Error::custom("expected a Java array (list)")),
        }
    }
}

// ---------------------------------------------------------------------------
// Typed maps

/// A Hessian typed map (`M`): a Java map other than `HashMap`, e.g.
/// `java.util.LinkedHashMap` or `java.util.TreeMap`. Entries keep their
/// order.
///
/// ```
/// use dubbo_hessian2::{java::TypedMap, to_vec};
/// let m = TypedMap::new("java.util.TreeMap", vec![(1, "fee".to_string())]);
/// assert_eq!(to_vec(&m).unwrap()[0], b'M');
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypedMap<K, V> {
    /// Hessian type name.
    pub type_name: String,
    /// Entries in order.
    pub entries: Vec<(K, V)>,
}

impl<K, V> TypedMap<K, V> {
    /// A map of type `type_name`.
    pub fn new(type_name: impl Into<String>, entries: Vec<(K, V)>) -> Self {
        TypedMap {
            type_name: type_name.into(),
            entries,
        }
    }
}

impl<K: Serialize, V: Serialize> Serialize for TypedMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.entries.len() + 1))?;
        m.serialize_entry(magic::MAP, &self.type_name)?;
        for (k, v) in &self.entries {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, K: DeserializeOwned, V: DeserializeOwned> Deserialize<'de> for TypedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match via_value(d)? {
            Value::Map { type_name, entries } => Ok(TypedMap {
                type_name: type_name.unwrap_or_default(),
                entries: entries
                    .into_iter()
                    .map(|(k, v)| {
                        Ok((
                            from_value(k).map_err(de::Error::custom)?,
                            from_value(v).map_err(de::Error::custom)?,
                        ))
                    })
                    .collect::<Result<_, D::Error>>()?,
            }),
            _ => Err(de::Error::custom("expected a map")),
        }
    }
}

// ---------------------------------------------------------------------------
// Throwables

/// Marker that serializes as a reference to the innermost enclosing object
/// (this is how a JDK Throwable without a cause is written: `cause` = itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SelfRef;

impl Serialize for SelfRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(magic::THIS_NEWTYPE, &())
    }
}

/// Class name of the JDK's empty suppressed-exceptions list.
pub const EMPTY_LIST_TYPE: &str = "java.util.Collections$EmptyList";
/// Hessian type of `StackTraceElement[]`.
pub const STACK_TRACE_TYPE: &str = "[java.lang.StackTraceElement";

/// A `java.lang.StackTraceElement`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackTraceElement {
    /// `declaringClass`.
    pub declaring_class: String,
    /// `methodName`.
    pub method_name: String,
    /// `fileName`.
    pub file_name: Option<String>,
    /// `lineNumber` (negative when unknown; -2 for native methods).
    pub line_number: i32,
    /// `classLoaderName` (JDK 9+).
    pub class_loader_name: Option<String>,
    /// `moduleName` (JDK 9+).
    pub module_name: Option<String>,
    /// `moduleVersion` (JDK 9+).
    pub module_version: Option<String>,
}

impl StackTraceElement {
    fn from_value(v: &Value) -> Option<Self> {
        Some(StackTraceElement {
            declaring_class: field_str(v, "declaringClass")?,
            method_name: field_str(v, "methodName").unwrap_or_default(),
            file_name: field_str(v, "fileName"),
            line_number: v.get("lineNumber").and_then(Value::as_i32).unwrap_or(-1),
            class_loader_name: field_str(v, "classLoaderName"),
            module_name: field_str(v, "moduleName"),
            module_version: field_str(v, "moduleVersion"),
        })
    }
}

impl Serialize for StackTraceElement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(magic::CLASS, "java.lang.StackTraceElement")?;
        m.serialize_entry("declaringClass", &self.declaring_class)?;
        m.serialize_entry("methodName", &self.method_name)?;
        m.serialize_entry("fileName", &self.file_name)?;
        m.serialize_entry("lineNumber", &self.line_number)?;
        if let Some(x) = &self.class_loader_name {
            m.serialize_entry("classLoaderName", x)?;
        }
        if let Some(x) = &self.module_name {
            m.serialize_entry("moduleName", x)?;
        }
        if let Some(x) = &self.module_version {
            m.serialize_entry("moduleVersion", x)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for StackTraceElement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = via_value(d)?;
        StackTraceElement::from_value(&v)
            .ok_or_else(|| de::Error::custom("expected a java.lang.StackTraceElement"))
    }
}

/// Any Java `Throwable`, decoded generically: class name, `detailMessage`,
/// `cause` chain, stack trace, suppressed exceptions, plus whatever other
/// fields the concrete class has.
///
/// Decoding accepts an object of any class (or a map, e.g. a Java peer's
/// `HashMap` fallback, whose `class` entry, if any, names the class). A
/// `cause` that refers back to the exception itself (or to any enclosing
/// exception) means "no cause".
///
/// Encoding writes an object of `class_name` with the JDK Throwable fields
/// `suppressedExceptions`, `stackTrace`, `cause` (a reference to itself when
/// there is no cause) and `detailMessage`, followed by
/// [`extra_fields`](JavaThrowable::extra_fields) — byte-for-byte what
/// hessian-lite writes for a JDK 17 `RuntimeException` with an empty stack
/// trace.
///
/// ```
/// use dubbo_hessian2::{from_slice, java::JavaThrowable, to_vec};
/// let e = JavaThrowable::runtime_exception("boom");
/// let bytes = to_vec(&e).unwrap();
/// let back: JavaThrowable = from_slice(&bytes).unwrap();
/// assert_eq!(back, e);
/// assert_eq!(back.to_string(), "java.lang.RuntimeException: boom");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JavaThrowable {
    /// Java class, e.g. `java.lang.IllegalStateException`.
    pub class_name: String,
    /// `detailMessage`.
    pub detail_message: Option<String>,
    /// `cause`, `None` when the Java cause pointed at the exception itself.
    pub cause: Option<Box<JavaThrowable>>,
    /// `stackTrace`.
    pub stack_trace: Vec<StackTraceElement>,
    /// `suppressedExceptions`.
    pub suppressed: Vec<JavaThrowable>,
    /// Other fields of the concrete class (custom exception fields).
    pub extra_fields: Vec<(String, Value)>,
}

/// Alias of [`JavaThrowable`].
pub type Exception = JavaThrowable;

const THROWABLE_FIELDS: [&str; 4] = [
    "suppressedExceptions",
    "stackTrace",
    "cause",
    "detailMessage",
];

impl JavaThrowable {
    /// A throwable of class `class_name` with an optional message.
    pub fn new(class_name: impl Into<String>, detail_message: Option<String>) -> Self {
        JavaThrowable {
            class_name: class_name.into(),
            detail_message,
            ..Default::default()
        }
    }

    /// A `java.lang.RuntimeException` with the given message.
    pub fn runtime_exception(message: impl Into<String>) -> Self {
        Self::new("java.lang.RuntimeException", Some(message.into()))
    }

    /// Sets the cause.
    pub fn with_cause(mut self, cause: JavaThrowable) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// The message, if any.
    pub fn message(&self) -> Option<&str> {
        self.detail_message.as_deref()
    }

    /// Interprets a decoded value as a throwable. Returns `None` if it is
    /// neither an object nor a map.
    ///
    /// ```
    /// use dubbo_hessian2::{java::JavaThrowable, Value};
    /// let v = Value::object("java.lang.IllegalStateException", vec![
    ///     ("detailMessage".into(), "bad".into()),
    ///     ("cause".into(), Value::Ref(0)),
    /// ]);
    /// let e = JavaThrowable::from_value(&v).unwrap();
    /// assert_eq!(e.class_name, "java.lang.IllegalStateException");
    /// assert_eq!(e.message(), Some("bad"));
    /// assert!(e.cause.is_none());
    /// ```
    pub fn from_value(v: &Value) -> Option<JavaThrowable> {
        let (class_name, pairs): (String, Vec<(&str, &Value)>) = match v {
            Value::Object { class, fields } => (
                class.clone(),
                fields.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            ),
            Value::Map { entries, .. } => (
                field_str(v, "class").unwrap_or_else(|| "java.lang.Throwable".to_owned()),
                entries
                    .iter()
                    .filter_map(|(k, v)| k.as_str().map(|k| (k, v)))
                    .filter(|(k, _)| *k != "class")
                    .collect(),
            ),
            _ => return None,
        };
        let mut t = JavaThrowable::new(class_name, None);
        for (name, value) in pairs {
            match name {
                "detailMessage" => t.detail_message = value.as_str().map(str::to_owned),
                "cause" => t.cause = JavaThrowable::from_value(value).map(Box::new),
                "stackTrace" => {
                    t.stack_trace = value
                        .as_list()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(StackTraceElement::from_value)
                        .collect();
                }
                "suppressedExceptions" => {
                    t.suppressed = value
                        .as_list()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(JavaThrowable::from_value)
                        .collect();
                }
                _ => t.extra_fields.push((name.to_owned(), value.clone())),
            }
        }
        Some(t)
    }
}

impl fmt::Display for JavaThrowable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail_message {
            Some(m) => write!(f, "{}: {m}", self.class_name),
            None => f.write_str(&self.class_name),
        }
    }
}

impl std::error::Error for JavaThrowable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl Serialize for JavaThrowable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5 + self.extra_fields.len()))?;
        m.serialize_entry(magic::CLASS, &self.class_name)?;
        if self.suppressed.is_empty() {
            m.serialize_entry(
                THROWABLE_FIELDS[0],
                &TypedList::<Value>::new(EMPTY_LIST_TYPE, Vec::new()),
            )?;
        } else {
            m.serialize_entry(THROWABLE_FIELDS[0], &self.suppressed)?;
        }
        m.serialize_entry(
            THROWABLE_FIELDS[1],
            &TypedListRef(STACK_TRACE_TYPE, &self.stack_trace),
        )?;
        match &self.cause {
            Some(c) => m.serialize_entry(THROWABLE_FIELDS[2], c)?,
            None => m.serialize_entry(THROWABLE_FIELDS[2], &SelfRef)?,
        }
        m.serialize_entry(THROWABLE_FIELDS[3], &self.detail_message)?;
        for (k, v) in &self.extra_fields {
            if !THROWABLE_FIELDS.contains(&k.as_str()) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for JavaThrowable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = via_value(d)?;
        JavaThrowable::from_value(&v)
            .ok_or_else(|| de::Error::custom("expected a Java Throwable object"))
    }
}

/// A borrowed typed list, for serialization only.
struct TypedListRef<'a, T>(&'a str, &'a [T]);

impl<T: Serialize> Serialize for TypedListRef<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(magic::LIST, self.0)?;
        m.serialize_entry(magic::ITEMS, self.1)?;
        m.end()
    }
}
