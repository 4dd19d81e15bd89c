//! Reserved names used to carry Hessian-specific shapes through serde's data
//! model (see the crate docs, "Value in serde").

/// Map key: the map is an object; the value is its class name.
pub(crate) const CLASS: &str = "$class";
/// Map key: the map is a typed list; the value is the type name.
pub(crate) const LIST: &str = "$list";
/// Map key that follows [`LIST`]: the list's elements.
pub(crate) const ITEMS: &str = "$items";
/// Map key: the map is a Hessian map; the value is its type name or null.
pub(crate) const MAP: &str = "$map";
/// Map key: the map is a date; the value is milliseconds since the epoch.
pub(crate) const DATE: &str = "$date";
/// Map key: the map is a cyclic reference; the value is the container index.
pub(crate) const REF: &str = "$ref";

/// Newtype struct name of [`crate::java::Date`].
pub(crate) const DATE_NEWTYPE: &str = "$hessian2::Date";
/// Newtype struct name of the "reference to the enclosing object" marker.
pub(crate) const THIS_NEWTYPE: &str = "$hessian2::This";
/// Newtype struct name through which `Value::deserialize` asks this crate's
/// deserializers for the full-fidelity form.
pub(crate) const VALUE_NEWTYPE: &str = "$hessian2::Value";

/// Placeholder index produced for [`THIS_NEWTYPE`] before it is resolved.
pub(crate) const THIS_SENTINEL: usize = usize::MAX;

pub(crate) fn is_magic_key(k: &str) -> bool {
    matches!(k, CLASS | LIST | MAP | DATE | REF)
}
