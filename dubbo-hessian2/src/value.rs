//! The dynamic [`Value`] type.

use std::collections::{BTreeMap, HashMap};

/// A dynamically typed Hessian 2.0 value.
///
/// This is what [`Decoder::read_value`](crate::Decoder::read_value) returns
/// and what [`Encoder::write_value`](crate::Encoder::write_value) writes.
///
/// # Shared and cyclic graphs
///
/// Hessian numbers every list, map and object in the order its start is
/// written and lets later data point back at it with `Q <index>`. `Value` is a
/// tree, so:
///
/// * a back-reference to a container that was already complete is decoded
///   as a **deep copy** of it (bounded by
///   [`Limits::max_ref_expansion`](crate::Limits::max_ref_expansion));
/// * a back-reference to a container that is still being decoded (a real
///   cycle, e.g. a list containing itself, or a Java exception whose `cause`
///   is itself) is decoded as [`Value::Ref`].
///
/// `Value::Ref(i)` points at the `i`-th list/map/object of the enclosing
/// top-level value, counting containers in pre-order (the order their starts
/// appear when written) from 0 for the top-level value itself. The index is
/// therefore independent of where the value sits in a stream: the encoder
/// translates it back to the stream's own numbering when writing, and the
/// decoder translates stream numbers into it when reading.
///
/// ```
/// use dubbo_hessian2::{Decoder, Value};
///
/// // a Java ArrayList that contains itself: 79 51 90
/// let v = Decoder::new(&[0x79, 0x51, 0x90]).read_value().unwrap();
/// assert_eq!(v, Value::List { type_name: None, items: vec![Value::Ref(0)] });
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `N`: Java `null`.
    #[default]
    Null,
    /// `T` / `F`.
    Bool(bool),
    /// 32-bit int (Java `int`, `Integer`, `short`, `byte`).
    Int(i32),
    /// 64-bit long.
    Long(i64),
    /// 64-bit IEEE double (Java `double` and `float`).
    Double(f64),
    /// A string (Java `String`, `char`, `char[]`).
    String(String),
    /// Binary data (Java `byte[]`).
    Binary(Vec<u8>),
    /// A date: milliseconds since the Unix epoch, UTC (Java `java.util.Date`).
    Date(i64),
    /// A list. `type_name` is `None` for untyped lists (Java `ArrayList`)
    /// and e.g. `Some("[string")` for a Java `String[]`.
    List {
        /// Hessian type name, if the list is typed.
        type_name: Option<String>,
        /// The elements.
        items: Vec<Value>,
    },
    /// A map. `type_name` is `None` for untyped `H` maps (Java `HashMap`) and
    /// e.g. `Some("java.util.LinkedHashMap")` for typed `M` maps.
    Map {
        /// Hessian type name, if the map is typed.
        type_name: Option<String>,
        /// Key/value pairs in wire order.
        entries: Vec<(Value, Value)>,
    },
    /// An object instance of a class definition.
    Object {
        /// Java class name (e.g. `com.foo.User`).
        class: String,
        /// Field names and values, in wire order (which carries no meaning).
        fields: Vec<(String, Value)>,
    },
    /// A cyclic back-reference to the `i`-th container (pre-order, from 0)
    /// of the enclosing top-level value. See the type-level docs.
    Ref(usize),
}

impl Value {
    /// `true` for [`Value::Null`].
    ///
    /// ```
    /// assert!(dubbo_hessian2::Value::Null.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is a [`Value::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer of an [`Value::Int`] or [`Value::Long`].
    ///
    /// ```
    /// use dubbo_hessian2::Value;
    /// assert_eq!(Value::Int(7).as_i64(), Some(7));
    /// assert_eq!(Value::Long(1 << 40).as_i64(), Some(1 << 40));
    /// assert_eq!(Value::Double(1.0).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(i64::from(*i)),
            Value::Long(l) => Some(*l),
            _ => None,
        }
    }

    /// The integer of an [`Value::Int`], or of a [`Value::Long`] that fits.
    pub fn as_i32(&self) -> Option<i32> {
        self.as_i64().and_then(|v| i32::try_from(v).ok())
    }

    /// The number of a [`Value::Double`], [`Value::Int`] or [`Value::Long`].
    ///
    /// ```
    /// use dubbo_hessian2::Value;
    /// assert_eq!(Value::Double(1.5).as_f64(), Some(1.5));
    /// assert_eq!(Value::Int(2).as_f64(), Some(2.0));
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            Value::Int(i) => Some(f64::from(*i)),
            Value::Long(l) => Some(*l as f64),
            _ => None,
        }
    }

    /// The text of a [`Value::String`].
    ///
    /// ```
    /// assert_eq!(dubbo_hessian2::Value::from("hi").as_str(), Some("hi"));
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes of a [`Value::Binary`].
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// Milliseconds since the epoch of a [`Value::Date`].
    pub fn as_date_ms(&self) -> Option<i64> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The elements of a [`Value::List`].
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List { items, .. } => Some(items),
            _ => None,
        }
    }

    /// The entries of a [`Value::Map`].
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// Looks up an object field by name, or a map entry whose key is the
    /// string `key`. Returns `None` for other values.
    ///
    /// ```
    /// use dubbo_hessian2::Value;
    /// let user = Value::object("com.foo.User", vec![("name".into(), "ann".into())]);
    /// assert_eq!(user.get("name").and_then(Value::as_str), Some("ann"));
    /// let attachments = Value::map(vec![("path".into(), "demo.Greeter".into())]);
    /// assert_eq!(attachments.get("path").and_then(Value::as_str), Some("demo.Greeter"));
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object { fields, .. } => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Value::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The class name of a [`Value::Object`].
    ///
    /// ```
    /// use dubbo_hessian2::Value;
    /// let e = Value::enum_constant("example.Color", "RED");
    /// assert_eq!(e.class_name(), Some("example.Color"));
    /// ```
    pub fn class_name(&self) -> Option<&str> {
        match self {
            Value::Object { class, .. } => Some(class),
            _ => None,
        }
    }

    /// The type name of a typed [`Value::List`] or [`Value::Map`].
    pub fn type_name(&self) -> Option<&str> {
        match self {
            Value::List { type_name, .. } | Value::Map { type_name, .. } => type_name.as_deref(),
            _ => None,
        }
    }

    /// An untyped list (Java `ArrayList`).
    pub fn list(items: Vec<Value>) -> Value {
        Value::List {
            type_name: None,
            items,
        }
    }

    /// A typed list, e.g. `Value::typed_list("[string", …)` for a Java `String[]`.
    pub fn typed_list(type_name: impl Into<String>, items: Vec<Value>) -> Value {
        Value::List {
            type_name: Some(type_name.into()),
            items,
        }
    }

    /// An untyped map (Java `HashMap`).
    pub fn map(entries: Vec<(Value, Value)>) -> Value {
        Value::Map {
            type_name: None,
            entries,
        }
    }

    /// A typed map, e.g. `java.util.LinkedHashMap`.
    pub fn typed_map(type_name: impl Into<String>, entries: Vec<(Value, Value)>) -> Value {
        Value::Map {
            type_name: Some(type_name.into()),
            entries,
        }
    }

    /// An object of class `class`.
    pub fn object(class: impl Into<String>, fields: Vec<(String, Value)>) -> Value {
        Value::Object {
            class: class.into(),
            fields,
        }
    }

    /// A Java enum constant: an object of the enum class with the single
    /// field `name`.
    pub fn enum_constant(class: impl Into<String>, name: impl Into<String>) -> Value {
        Value::Object {
            class: class.into(),
            fields: vec![("name".to_owned(), Value::String(name.into()))],
        }
    }

    /// If this value has the shape of a Java enum constant (an object whose
    /// only field is a string `name`), returns `(class, name)`.
    pub fn as_enum_constant(&self) -> Option<(&str, &str)> {
        match self {
            Value::Object { class, fields } => match fields.as_slice() {
                [(k, Value::String(name))] if k == "name" => Some((class, name)),
                _ => None,
            },
            _ => None,
        }
    }
}

macro_rules! from_via {
    ($($t:ty => $variant:ident as $conv:ty),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::$variant(<$conv>::from(v))
            }
        }
    )*};
}

from_via! {
    bool => Bool as bool,
    i8 => Int as i32,
    i16 => Int as i32,
    i32 => Int as i32,
    u8 => Int as i32,
    u16 => Int as i32,
    i64 => Long as i64,
    u32 => Long as i64,
    f32 => Double as f64,
    f64 => Double as f64,
    String => String as String,
    &str => String as String,
}

impl From<char> for Value {
    fn from(c: char) -> Value {
        Value::String(c.to_string())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::Null
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Value {
        Value::Binary(b.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    /// An untyped list. (For binary data use [`Value::Binary`] or `From<&[u8]>`.)
    fn from(v: Vec<T>) -> Value {
        Value::list(v.into_iter().map(Into::into).collect())
    }
}

impl<K: Into<Value>, V: Into<Value>, S> From<HashMap<K, V, S>> for Value {
    fn from(m: HashMap<K, V, S>) -> Value {
        Value::map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<Value>, V: Into<Value>> From<BTreeMap<K, V>> for Value {
    fn from(m: BTreeMap<K, V>) -> Value {
        Value::map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl From<crate::java::Date> for Value {
    fn from(d: crate::java::Date) -> Value {
        Value::Date(d.0)
    }
}
