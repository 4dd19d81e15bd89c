//! Hessian 2.0 serialization as spoken by Apache Dubbo (the hessian-lite
//! dialect used by the Dubbo2 protocol, serialization id 2).
//!
//! * [`Encoder`] writes values byte-compatibly with hessian-lite's
//!   `Hessian2Output`, with one set of class/type/reference tables shared
//!   across all values of a stream (a Dubbo2 body).
//! * [`Decoder`] reads every Hessian 2.0 form from untrusted input without
//!   panicking, looping or over-allocating ([`Limits`]).
//! * [`Value`] is the dynamic value type; everything also works through
//!   serde ([`to_value`], [`from_value`], [`to_vec`], [`from_slice`],
//!   [`Encoder::serialize`], [`Decoder::deserialize`]).
//! * [`java`] has typed helpers for the Java types Dubbo peers exchange
//!   (dates, `BigDecimal`, enums, arrays, typed collections, exceptions).
//!
//! ```
//! use dubbo_hessian2::{from_slice, to_vec};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename = "example.Car")]
//! struct Car { model: String, color: String }
//!
//! let car = Car { model: "corvette".into(), color: "red".into() };
//! let bytes = to_vec(&car).unwrap();
//! assert_eq!(&bytes[..2], &[b'C', 0x0b]); // class definition "example.Car"
//! assert_eq!(from_slice::<Car>(&bytes).unwrap(), car);
//! ```
//!
//! # serde mapping
//!
//! | Rust (serde) | Hessian |
//! |---|---|
//! | `bool` | `T` / `F` |
//! | `i8`, `i16`, `i32`, `u8`, `u16` | int |
//! | `i64`, `u32`, `u64`, `i128`, `u128` | long (error if it does not fit `i64`) |
//! | `f32`, `f64` | double |
//! | `char` | 1-character string |
//! | `str`, `String` | string |
//! | bytes (`serialize_bytes`) | binary |
//! | `()`, `None`, unit struct | `N` |
//! | `Some(x)`, newtype struct | `x` |
//! | seq, tuple, tuple struct | untyped list (Java `ArrayList`) |
//! | map | untyped `H` map (Java `HashMap`) |
//! | struct | object; class = serde name (`#[serde(rename = "com.foo.User")]`) |
//! | enum unit variant | object of class = enum name with field `name` = variant (a Java enum) |
//! | enum newtype / tuple / struct variant | untyped map `{variant: value}` (tuple: list, struct: map of fields) |
//!
//! Decoding is lenient where Java is: numbers convert to whichever numeric
//! type is requested when they fit, structs accept objects *and* maps with
//! string keys (unknown fields ignored, missing ones up to
//! `#[serde(default)]`), `Vec<u8>` accepts binary, enums accept an enum
//! object, a string or a one-entry map, and a cyclic reference reads as
//! `None`/unit.
//!
//! Reserved map keys: a serialized map whose **first** key is `"$class"`,
//! `"$list"`, `"$map"`, `"$date"` or `"$ref"` denotes an object, typed list,
//! typed map, date or reference (this is how [`Value`] and the [`java`]
//! helpers pass those shapes through serde; see `Value`'s `Serialize` docs).
//!
//! # Java types
//!
//! | Java | Rust |
//! |---|---|
//! | `int`/`Integer`, `short`, `byte` | `i32` (`i16`, `i8`) |
//! | `long`/`Long` | `i64` |
//! | `double`, `float` | `f64`, `f32` |
//! | `String`, `char` | `String`, `char` |
//! | `byte[]` | `Vec<u8>` via a bytes adapter, or [`Value::Binary`] |
//! | `java.util.Date` | [`java::Date`] |
//! | `java.math.BigDecimal` | [`java::BigDecimal`] |
//! | enum | Rust unit-variant enum with `#[serde(rename = "pkg.Enum")]`, or [`java::Enum`] |
//! | `ArrayList`, `List` | `Vec<T>` |
//! | `T[]` | [`java::Array`] (`"[int"`, `"[string"`, `"[object"`, …) or [`java::TypedList`] |
//! | `LinkedList`, `HashSet`, … | [`java::TypedList`] |
//! | `HashMap` | `HashMap<K, V>` / `BTreeMap` |
//! | `LinkedHashMap`, `TreeMap`, … | [`java::TypedMap`] |
//! | POJO | struct with `#[serde(rename = "pkg.Class")]` |
//! | `Throwable` | [`java::JavaThrowable`] |
//! | anything | [`Value`] |
//!
//! # Streams and shared tables
//!
//! A Dubbo2 body is one Hessian stream: write every field with the same
//! [`Encoder`] and read them with the same [`Decoder`], so class definitions,
//! type names and references carry over between fields.

#![warn(missing_docs)]

mod de;
mod decode;
mod encode;
mod error;
pub mod java;
mod limits;
mod magic;
mod ser;
mod ser_direct;
mod table;
mod value;
mod value_serde;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use de::{ValueDeserializer, from_value};
pub use decode::{Decoder, StrPairs};
pub use encode::{BINARY_CHUNK_LEN, ENCODE_MAX_DEPTH, Encoder, STRING_CHUNK_UNITS};
pub use error::{Error, ErrorKind, Result};
pub use limits::Limits;
pub use ser::to_value;
pub use value::Value;

/// Serializes `value` as one Hessian value into a new byte vector.
///
/// ```
/// assert_eq!(dubbo_hessian2::to_vec(&"hello").unwrap(), b"\x05hello");
/// assert_eq!(dubbo_hessian2::to_vec(&vec![0, 1]).unwrap(), [0x7a, 0x90, 0x91]);
/// ```
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut enc = Encoder::new();
    enc.serialize(value)?;
    Ok(enc.into_bytes())
}

/// Deserializes one Hessian value that must span all of `bytes`.
///
/// The value is read straight into `T` where it can be (no [`Value`] tree is
/// built for objects, maps and lists); input with references (`Q`) and the
/// other shapes that need the tree go through [`Decoder::deserialize`]. The
/// result is the same either way.
///
/// ```
/// let v: std::collections::HashMap<i32, String> =
///     dubbo_hessian2::from_slice(&[0x48, 0x91, 0x03, b'f', b'e', b'e', 0x5a]).unwrap();
/// assert_eq!(v[&1], "fee");
/// ```
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    {
        let mut dec = Decoder::new(bytes);
        if let Ok(v) = T::deserialize(decode::stream::Streamed::new(&mut dec))
            && dec.is_at_end()
        {
            return Ok(v);
        }
    }
    let mut dec = Decoder::new(bytes);
    let v = dec.deserialize()?;
    if !dec.is_at_end() {
        return Err(Error::at(
            ErrorKind::Syntax,
            dec.position(),
            format!("{} trailing byte(s) after the value", dec.remaining().len()),
        ));
    }
    Ok(v)
}
