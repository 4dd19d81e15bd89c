//! Request and response bodies (spec §3.4–§3.7, §3.12) in both serializations: Hessian 2
//! (one encoder/decoder for the whole body, so class definitions and references are shared
//! across its fields) and fastjson (one JSON text per line).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::hessian2::{self, Decoder, Encoder, Value};
use crate::message::Payload;
use crate::status::Status;

use super::frame::{FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, Header, OutFrame};
use super::json;

/// The Dubbo protocol version we send in requests (and in response attachments).
pub const DUBBO_VERSION: &str = "2.0.2";

/// Response flags (spec §3.5).
pub mod flag {
    /// Exception.
    pub const EXCEPTION: i32 = 0;
    /// Value.
    pub const VALUE: i32 = 1;
    /// Null / void.
    pub const NULL: i32 = 2;
    /// Exception, then attachments.
    pub const EXCEPTION_WITH_ATTACHMENTS: i32 = 3;
    /// Value, then attachments.
    pub const VALUE_WITH_ATTACHMENTS: i32 = 4;
    /// Null, then attachments.
    pub const NULL_WITH_ATTACHMENTS: i32 = 5;
}

/// How a frame body is encoded (the serialization id in the flags byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Serialization {
    /// Hessian 2 (id 2), the default.
    #[default]
    Hessian2,
    /// fastjson (id 6): one JSON text per line (Dubbo 2.7).
    Fastjson,
}

impl Serialization {
    /// The id carried in the frame header.
    pub fn id(self) -> u8 {
        match self {
            Serialization::Hessian2 => 2,
            Serialization::Fastjson => 6,
        }
    }

    /// The serialization with this id, if supported.
    pub fn from_id(id: u8) -> Option<Serialization> {
        match id {
            2 => Some(Serialization::Hessian2),
            6 => Some(Serialization::Fastjson),
            _ => None,
        }
    }

    /// The name Java uses (`hessian2`, `fastjson`).
    pub fn name(self) -> &'static str {
        match self {
            Serialization::Hessian2 => "hessian2",
            Serialization::Fastjson => "fastjson",
        }
    }
}

impl FromStr for Serialization {
    type Err = String;

    fn from_str(s: &str) -> Result<Serialization, String> {
        match s {
            "hessian2" | "hessian" => Ok(Serialization::Hessian2),
            "fastjson" | "json" => Ok(Serialization::Fastjson),
            other => Err(format!(
                "unsupported serialization {other:?} (supported: hessian2, fastjson)"
            )),
        }
    }
}

impl fmt::Display for Serialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn hessian_error(context: &str, e: hessian2::Error) -> Status {
    Status::internal(format!("{context}: {e}"))
}

/// Writes the fields of one body.
// Lives on the stack for one request; boxing the encoder would cost an allocation per call.
#[allow(clippy::large_enum_variant)]
pub enum BodyWriter {
    /// One Hessian stream for the whole body.
    Hessian(Encoder),
    /// One JSON text per line.
    Json(Vec<u8>),
}

impl fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyWriter::Hessian(e) => write!(f, "BodyWriter::Hessian({} bytes)", e.len()),
            BodyWriter::Json(b) => write!(f, "BodyWriter::Json({} bytes)", b.len()),
        }
    }
}

impl BodyWriter {
    /// An empty body.
    pub fn new(serialization: Serialization) -> BodyWriter {
        match serialization {
            Serialization::Hessian2 => BodyWriter::Hessian(Encoder::new()),
            Serialization::Fastjson => BodyWriter::Json(Vec::new()),
        }
    }

    /// Writes a string.
    pub fn string(&mut self, s: &str) {
        match self {
            BodyWriter::Hessian(e) => e.write_string(s),
            BodyWriter::Json(out) => {
                json::write(&Value::String(s.to_owned()), out);
                out.push(b'\n');
            }
        }
    }

    /// Writes a map of string pairs.
    pub fn string_map(&mut self, pairs: &[(&str, &str)]) {
        match self {
            BodyWriter::Hessian(e) => e.write_string_map(pairs.iter().copied()),
            BodyWriter::Json(out) => {
                let map = pairs.iter().map(|&(k, v)| (k.into(), v.into())).collect();
                json::write(&Value::map(map), out);
                out.push(b'\n');
            }
        }
    }

    /// Writes an int (Dubbo's `writeByte` for response flags is a Hessian int).
    pub fn int(&mut self, i: i32) {
        match self {
            BodyWriter::Hessian(e) => e.write_int(i),
            BodyWriter::Json(out) => {
                out.extend_from_slice(i.to_string().as_bytes());
                out.push(b'\n');
            }
        }
    }

    /// Writes a null.
    pub fn null(&mut self) {
        match self {
            BodyWriter::Hessian(e) => e.write_null(),
            BodyWriter::Json(out) => out.extend_from_slice(b"null\n"),
        }
    }

    /// Writes a value.
    pub fn value(&mut self, v: &Value) -> Result<(), Status> {
        match self {
            BodyWriter::Hessian(e) => e
                .write_value(v)
                .map_err(|e| hessian_error("cannot encode value", e)),
            BodyWriter::Json(out) => {
                json::write(v, out);
                out.push(b'\n');
                Ok(())
            }
        }
    }

    /// Writes one payload as one value.
    pub fn payload(&mut self, p: &Payload) -> Result<(), Status> {
        match self {
            BodyWriter::Hessian(e) => p.encode_hessian(e),
            BodyWriter::Json(_) => {
                let v = payload_value(p)?;
                self.value(&v)
            }
        }
    }

    /// Writes a payload as call arguments; returns how many.
    pub fn arguments(&mut self, p: &Payload) -> Result<usize, Status> {
        match self {
            BodyWriter::Hessian(e) => p.encode_hessian_arguments(e),
            BodyWriter::Json(_) => match p.as_arguments() {
                Some(args) => {
                    for a in args {
                        self.value(a)?;
                    }
                    Ok(args.len())
                }
                None => self.payload(p).map(|()| 1),
            },
        }
    }

    /// The body bytes.
    pub fn finish(self) -> Vec<u8> {
        match self {
            BodyWriter::Hessian(e) => e.into_bytes(),
            BodyWriter::Json(b) => b,
        }
    }
}

/// A payload as one [`Value`] (for fastjson): typed messages go through their Hessian
/// mapping.
fn payload_value(p: &Payload) -> Result<Value, Status> {
    if let Some(v) = p.as_hessian() {
        return Ok(v.clone());
    }
    let mut encoder = Encoder::new();
    p.encode_hessian(&mut encoder)?;
    Decoder::new(encoder.as_bytes())
        .read_value()
        .map_err(|e| hessian_error("cannot convert the message for fastjson", e))
}

/// Reads the fields of one body.
// Lives on the stack for one request; boxing the decoder would cost an allocation per call.
#[allow(clippy::large_enum_variant)]
pub enum BodyReader<'a> {
    /// One Hessian stream.
    Hessian(Decoder<'a>),
    /// One JSON text per line.
    Json(json::Reader<'a>),
}

impl fmt::Debug for BodyReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyReader::Hessian(_) => f.write_str("BodyReader::Hessian"),
            BodyReader::Json(_) => f.write_str("BodyReader::Json"),
        }
    }
}

impl<'a> BodyReader<'a> {
    /// A reader over `body`.
    pub fn new(serialization: Serialization, body: &'a [u8]) -> BodyReader<'a> {
        match serialization {
            Serialization::Hessian2 => BodyReader::Hessian(Decoder::new(body)),
            Serialization::Fastjson => BodyReader::Json(json::Reader::new(body)),
        }
    }

    /// Whether the body is exhausted.
    pub fn is_at_end(&mut self) -> bool {
        match self {
            BodyReader::Hessian(d) => d.is_at_end(),
            BodyReader::Json(r) => r.is_at_end(),
        }
    }

    /// The next value.
    pub fn value(&mut self) -> Result<Value, String> {
        match self {
            BodyReader::Hessian(d) => d.read_value().map_err(|e| e.to_string()),
            BodyReader::Json(r) => r.read_value(),
        }
    }

    /// The next value, which must be a string or null (null reads as empty). Borrowed from
    /// the body when the serialization allows (short ASCII Hessian strings).
    pub fn string(&mut self, what: &str) -> Result<Cow<'a, str>, String> {
        if let BodyReader::Hessian(d) = self {
            return match d.read_str() {
                Ok(s) => Ok(s.unwrap_or_default()),
                Err(e) => Err(format!("expected a string for the {what}: {e}")),
            };
        }
        match self.value()? {
            Value::String(s) => Ok(Cow::Owned(s)),
            Value::Null => Ok(Cow::Borrowed("")),
            other => Err(format!("expected a string for the {what}, found {other:?}")),
        }
    }

    /// The next value as an int.
    pub fn int(&mut self, what: &str) -> Result<i32, String> {
        let v = self.value()?;
        v.as_i32()
            .ok_or_else(|| format!("expected an int for the {what}, found {v:?}"))
    }
}

/// A decoded request body (server side); its strings borrow from the body where they can.
#[derive(Debug)]
pub struct RequestBody<'a> {
    /// Dubbo protocol version field (`2.0.2`, or a jar version from old peers).
    pub dubbo_version: Cow<'a, str>,
    /// Service path (interface name).
    pub path: Cow<'a, str>,
    /// Service version (`0.0.0` or empty for none).
    pub version: Cow<'a, str>,
    /// Method name.
    pub method: Cow<'a, str>,
    /// JVM parameter descriptor.
    pub parameter_types: Cow<'a, str>,
    /// The arguments, one per parameter.
    pub args: Arguments<'a>,
    /// Attachments: the string-keyed entries of the attachment map.
    pub attachments: Attachments<'a>,
}

impl RequestBody<'_> {
    /// The string value of attachment `key`.
    pub fn attachment(&self, key: &str) -> Option<&str> {
        self.attachments.get(key)
    }
}

/// The arguments of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Arguments<'a> {
    /// Decoded, one value per parameter.
    Values(Vec<Value>),
    /// The only argument, not decoded yet: the bytes of one Hessian value that defines the
    /// classes it uses (see [`MethodDescriptor::hessian_request`]).
    ///
    /// [`MethodDescriptor::hessian_request`]: crate::descriptor::MethodDescriptor::hessian_request
    Encoded(&'a [u8]),
}

impl Arguments<'_> {
    /// The arguments as values (an encoded argument is decoded).
    pub fn into_values(self) -> Result<Vec<Value>, String> {
        match self {
            Arguments::Values(values) => Ok(values),
            Arguments::Encoded(bytes) => Decoder::new(bytes)
                .read_value()
                .map(|v| vec![v])
                .map_err(|e| format!("argument 0: {e}")),
        }
    }
}

/// The attachments of a request: text pairs borrowed from the body (the usual case), or the
/// decoded map entries when they hold anything but strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Attachments<'a> {
    /// Every key and value is a string.
    Text(crate::hessian2::StrPairs<'a>),
    /// Entries of any kind (entries without a string key are ignored).
    Values(Vec<(Value, Value)>),
}

impl Attachments<'_> {
    /// The string value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self {
            Attachments::Text(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| &**v),
            Attachments::Values(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .and_then(|(_, v)| v.as_str()),
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        match self {
            Attachments::Text(pairs) => pairs.is_empty(),
            Attachments::Values(entries) => entries.is_empty(),
        }
    }
}

/// Decodes a request body: header fields, then one argument per parameter descriptor (all in
/// one Hessian stream), then the attachments (absent in some old peers' requests).
///
/// A Hessian body with a single argument and string attachments — nearly every request —
/// is read without building values: the argument stays encoded ([`Arguments::Encoded`]) for
/// the typed decoder of the method it reaches, and the attachments borrow from the body.
pub fn decode_request(
    serialization: Serialization,
    body: &[u8],
) -> Result<RequestBody<'_>, String> {
    if serialization == Serialization::Hessian2
        && let Some(request) = decode_plain_request(body)
    {
        return Ok(request);
    }
    decode_request_values(serialization, body)
}

/// The general path of [`decode_request`]: every argument and attachment decoded as values.
fn decode_request_values(
    serialization: Serialization,
    body: &[u8],
) -> Result<RequestBody<'_>, String> {
    let mut r = BodyReader::new(serialization, body);
    let mut request = read_head(&mut r, body.len())?;
    let mut args = Vec::with_capacity(request.count);
    for i in 0..request.count {
        args.push(r.value().map_err(|e| format!("argument {i}: {e}"))?);
    }
    let attachments = if r.is_at_end() {
        Vec::new()
    } else {
        match r.value().map_err(|e| format!("attachments: {e}"))? {
            Value::Map { entries, .. } => entries,
            Value::Null => Vec::new(),
            other => return Err(format!("attachments must be a map, found {other:?}")),
        }
    };
    request.body.args = Arguments::Values(args);
    request.body.attachments = Attachments::Values(attachments);
    Ok(request.body)
}

/// The fast path of [`decode_request`]; `None` sends the body down the general path.
fn decode_plain_request(body: &[u8]) -> Option<RequestBody<'_>> {
    let mut r = BodyReader::new(Serialization::Hessian2, body);
    let mut request = read_head(&mut r, body.len()).ok()?;
    let BodyReader::Hessian(d) = &mut r else {
        return None;
    };
    // Generic calls and `$echo` take their arguments as values; an argument that may depend
    // on definitions in front of it (a class defined before the head strings) cannot be
    // decoded on its own.
    if request.count != 1 || request.body.method.starts_with('$') || !d.tables_empty() {
        return None;
    }
    let arg = d.skip_value().ok()?;
    let attachments = if d.is_at_end() {
        Vec::new()
    } else {
        d.read_str_map().ok()??
    };
    request.body.args = Arguments::Encoded(arg);
    request.body.attachments = Attachments::Text(attachments);
    Some(request.body)
}

/// A request's fixed fields, and how many arguments its parameter descriptor declares.
struct Head<'a> {
    body: RequestBody<'a>,
    count: usize,
}

fn read_head<'a>(r: &mut BodyReader<'a>, body_len: usize) -> Result<Head<'a>, String> {
    let dubbo_version = r.string("protocol version")?;
    let path = r.string("service path")?;
    let version = r.string("service version")?;
    let method = r.string("method name")?;
    let parameter_types = r.string("parameter types")?;
    let count = crate::java::jvm::count_parameters(&parameter_types).map_err(|e| e.to_string())?;
    if count > body_len {
        return Err(format!(
            "{count} parameters cannot fit in a {body_len}-byte body"
        ));
    }
    Ok(Head {
        body: RequestBody {
            dubbo_version,
            path,
            version,
            method,
            parameter_types,
            args: Arguments::Values(Vec::new()),
            attachments: Attachments::Values(Vec::new()),
        },
        count,
    })
}

/// The fixed fields of a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// Service path.
    pub path: &'a str,
    /// Service version (`0.0.0` when none).
    pub version: &'a str,
    /// Method name as sent.
    pub method: &'a str,
    /// JVM parameter descriptor.
    pub parameter_types: &'a str,
}

/// Encodes a request frame. `expected_args` is the number of parameter descriptors; the
/// payload must write exactly that many arguments. `attachments` is a map value.
#[allow(clippy::too_many_arguments)]
pub fn encode_request(
    serialization: Serialization,
    id: i64,
    two_way: bool,
    head: RequestHead<'_>,
    expected_args: usize,
    payload: &Payload,
    attachments: &Value,
    max_payload: usize,
) -> Result<OutFrame, Status> {
    let mut w = BodyWriter::new(serialization);
    w.string(DUBBO_VERSION);
    w.string(head.path);
    w.string(head.version);
    w.string(head.method);
    w.string(head.parameter_types);
    let written = w.arguments(payload)?;
    if written != expected_args {
        return Err(Status::invalid_argument(format!(
            "{}({}) takes {expected_args} argument(s), the call has {written}",
            head.method, head.parameter_types
        )));
    }
    w.value(attachments)?;
    let flags = FLAG_REQUEST | if two_way { FLAG_TWO_WAY } else { 0 } | serialization.id();
    let header = Header {
        flags,
        status: 0,
        id,
        len: 0,
    };
    OutFrame::new(header, w.finish(), max_payload).map_err(|len| {
        Status::resource_exhausted(format!(
            "request of {len} bytes exceeds the payload limit of {max_payload} bytes"
        ))
    })
}

/// An event body: `null` for heartbeats, or the read-only string.
pub fn event_frame(
    serialization: Serialization,
    request: bool,
    two_way: bool,
    id: i64,
    data: Option<&str>,
) -> OutFrame {
    let mut w = BodyWriter::new(serialization);
    match data {
        Some(s) => w.string(s),
        None => w.null(),
    }
    let mut flags = FLAG_EVENT | serialization.id();
    if request {
        flags |= FLAG_REQUEST;
        if two_way {
            flags |= FLAG_TWO_WAY;
        }
    }
    let header = Header {
        flags,
        status: if request { 0 } else { super::codes::OK },
        id,
        len: 0,
    };
    // An event body is a few bytes: within any payload limit.
    OutFrame::new(header, w.finish(), usize::MAX).unwrap_or_else(|_| OutFrame {
        header: header.encode(),
        body: Vec::new(),
    })
}

/// What an event carries.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A heartbeat.
    Heartbeat,
    /// The peer is shutting down: send no new requests on this connection.
    ReadOnly,
    /// The read-only state is cleared.
    Writable,
}

/// Reads an event body. Anything but the strings `R` and `W` is a heartbeat (Java compares
/// heartbeat bodies with the serialized null; some peers send other bodies).
pub fn decode_event(serialization: Serialization, body: &[u8]) -> Event {
    if body.len() > 15 {
        return Event::Heartbeat;
    }
    match BodyReader::new(serialization, body).value() {
        Ok(Value::String(s)) if s == "R" => Event::ReadOnly,
        Ok(Value::String(s)) if s == "W" => Event::Writable,
        _ => Event::Heartbeat,
    }
}

/// What a response body holds.
#[derive(Debug)]
pub enum ResponseBody {
    /// A value (`Null` for flags 2/5), and the attachments.
    Value(Value, Vec<(Value, Value)>),
    /// An exception object, and the attachments.
    Exception(Value, Vec<(Value, Value)>),
    /// A non-20 status and its error text.
    Error(u8, String),
}

/// Decodes a response body for `status`.
pub fn decode_response(
    serialization: Serialization,
    status: u8,
    body: &[u8],
) -> Result<ResponseBody, String> {
    let mut r = BodyReader::new(serialization, body);
    if status != super::codes::OK {
        let text = if body.is_empty() {
            String::new()
        } else {
            match r.value() {
                Ok(Value::String(s)) => s,
                Ok(other) => format!("{other:?}"),
                Err(_) => String::from_utf8_lossy(body).into_owned(),
            }
        };
        return Ok(ResponseBody::Error(status, text));
    }
    let flag = r.int("result flag")?;
    let attachments = |r: &mut BodyReader<'_>| -> Result<Vec<(Value, Value)>, String> {
        match r.value().map_err(|e| format!("attachments: {e}"))? {
            Value::Map { entries, .. } => Ok(entries),
            Value::Null => Ok(Vec::new()),
            other => Err(format!("attachments must be a map, found {other:?}")),
        }
    };
    Ok(match flag {
        flag::VALUE => ResponseBody::Value(r.value()?, Vec::new()),
        flag::NULL => ResponseBody::Value(Value::Null, Vec::new()),
        flag::EXCEPTION => ResponseBody::Exception(r.value()?, Vec::new()),
        flag::VALUE_WITH_ATTACHMENTS => {
            let v = r.value()?;
            ResponseBody::Value(v, attachments(&mut r)?)
        }
        flag::NULL_WITH_ATTACHMENTS => ResponseBody::Value(Value::Null, attachments(&mut r)?),
        flag::EXCEPTION_WITH_ATTACHMENTS => {
            let v = r.value()?;
            ResponseBody::Exception(v, attachments(&mut r)?)
        }
        other => return Err(format!("unknown result flag {other}")),
    })
}

/// Whether a peer that sent `dubbo_version` reads response attachments (flags 3–5): Java's
/// `Version.isSupportResponseAttachment`, true for the protocol versions 2.0.2 up to 2.0.99,
/// false for older ones, for jar versions such as 2.4.10 and for an empty version.
pub fn supports_response_attachments(dubbo_version: &str) -> bool {
    if dubbo_version == DUBBO_VERSION {
        return true;
    }
    if dubbo_version.is_empty() || dubbo_version.split('.').count() > 4 {
        return false;
    }
    let mut parts = dubbo_version.split('.');
    let mut v: i64 = 0;
    for _ in 0..4 {
        // Each part counts by its leading digits (none: 0), as Java's parse does.
        let mut n: i64 = 0;
        for digit in parts
            .next()
            .unwrap_or("")
            .bytes()
            .take_while(u8::is_ascii_digit)
        {
            n = match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(i64::from(digit - b'0')))
            {
                Some(n) => n,
                None => return false,
            };
        }
        // Java adds each part times 100^(3 - i), carrying into the next part.
        v = match v.checked_mul(100).and_then(|v| v.checked_add(n)) {
            Some(v) => v,
            None => return false,
        };
    }
    (2_00_02_00..=2_00_99_00).contains(&v)
}

/// What a successful response carries.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// A value (a typed or Hessian payload).
    Value(&'a Payload),
    /// An exception object.
    Exception(&'a Value),
}

/// The attachment map of a response.
#[derive(Debug, Clone, Copy)]
pub enum ResponseAttachments<'a> {
    /// None: the peer predates response attachments.
    None,
    /// A map value.
    Map(&'a Value),
    /// String pairs, written as a map without building a [`Value`] first.
    Pairs(&'a [(&'a str, &'a str)]),
}

/// Encodes a status-20 response. With attachments (for peers that support them) the flags
/// are 3/4/5 and the map follows; otherwise 0/1/2.
pub fn encode_response(
    serialization: Serialization,
    id: i64,
    outcome: Outcome<'_>,
    attachments: ResponseAttachments<'_>,
    max_payload: usize,
) -> Result<OutFrame, ResponseError> {
    let mut w = BodyWriter::new(serialization);
    let with = !matches!(attachments, ResponseAttachments::None);
    match outcome {
        Outcome::Value(p) if is_null(p) => {
            w.int(if with {
                flag::NULL_WITH_ATTACHMENTS
            } else {
                flag::NULL
            });
        }
        Outcome::Value(p) => {
            w.int(if with {
                flag::VALUE_WITH_ATTACHMENTS
            } else {
                flag::VALUE
            });
            w.payload(p).map_err(ResponseError::Encode)?;
        }
        Outcome::Exception(e) => {
            w.int(if with {
                flag::EXCEPTION_WITH_ATTACHMENTS
            } else {
                flag::EXCEPTION
            });
            w.value(e).map_err(ResponseError::Encode)?;
        }
    }
    match attachments {
        ResponseAttachments::None => {}
        ResponseAttachments::Map(a) => w.value(a).map_err(ResponseError::Encode)?,
        ResponseAttachments::Pairs(pairs) => w.string_map(pairs),
    }
    let header = Header {
        flags: serialization.id(),
        status: super::codes::OK,
        id,
        len: 0,
    };
    OutFrame::new(header, w.finish(), max_payload).map_err(ResponseError::TooLarge)
}

/// Why a response could not be encoded.
#[derive(Debug)]
pub enum ResponseError {
    /// The value could not be serialized.
    Encode(Status),
    /// The body exceeded the payload limit (its length).
    TooLarge(usize),
}

fn is_null(p: &Payload) -> bool {
    p.as_hessian().is_some_and(Value::is_null)
        || p.as_typed().is_some_and(|m| m.as_any().is::<()>())
}

/// Encodes an error response: `status` and its text.
pub fn encode_error(serialization: Serialization, id: i64, status: u8, message: &str) -> OutFrame {
    let mut w = BodyWriter::new(serialization);
    w.string(message);
    let header = Header {
        flags: serialization.id(),
        status,
        id,
        len: 0,
    };
    let body = w.finish();
    OutFrame::new(header, body, usize::MAX).unwrap_or_else(|_| OutFrame {
        header: header.encode(),
        body: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
