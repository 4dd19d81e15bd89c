//! Dubbo URLs: `protocol://[user[:password]@]host[:port]/path?key=value&...`.
//!
//! This is the format Java and Go Dubbo write into registries and pass between layers.
//! Parameters are kept sorted, so the text of a [`Url`] (its `Display`) is byte-stable and
//! matches Java's `URL.toFullString()`. Parameter values are written raw, as Java does; the
//! registry layer encodes whole URLs with [`encode`] (Java's `URLEncoder`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// Error returned by [`Url::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid URL {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for UrlError {}

/// A Dubbo URL.
///
/// ```
/// use dubbo_runtime::Url;
/// let url: Url = "tri://127.0.0.1:50051/org.apache.dubbo.sample.Greeter?version=1.0.0&group=g1"
///     .parse()
///     .unwrap();
/// assert_eq!(url.protocol(), "tri");
/// assert_eq!(url.port(), 50051);
/// assert_eq!(url.param("version"), Some("1.0.0"));
/// // Parameters come out sorted.
/// assert_eq!(
///     url.to_string(),
///     "tri://127.0.0.1:50051/org.apache.dubbo.sample.Greeter?group=g1&version=1.0.0"
/// );
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Url {
    protocol: String,
    username: Option<String>,
    password: Option<String>,
    host: String,
    port: u16,
    path: String,
    params: BTreeMap<String, String>,
}

impl Url {
    /// Builds a URL from its parts (no parameters).
    pub fn new(protocol: impl Into<String>, host: impl Into<String>, port: u16) -> Url {
        Url {
            protocol: protocol.into(),
            username: None,
            password: None,
            host: host.into(),
            port,
            path: String::new(),
            params: BTreeMap::new(),
        }
    }

    /// Parses a URL. A string without `://` is taken as `tri://` + the string, so
    /// `"127.0.0.1:50051"` works.
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        let err = |reason| UrlError {
            input: input.to_owned(),
            reason,
        };
        let input_trimmed = input.trim();
        if input_trimmed.is_empty() {
            return Err(err("empty"));
        }
        let (protocol, rest) = match input_trimmed.find("://") {
            Some(0) => return Err(err("missing protocol before ://")),
            Some(i) => (&input_trimmed[..i], &input_trimmed[i + 3..]),
            None => ("tri", input_trimmed),
        };
        if !protocol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'+' || b == b'.')
        {
            return Err(err("invalid protocol name"));
        }
        let (rest, query) = match rest.find('?') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(info) => match info.find(':') {
                Some(i) => (Some(info[..i].to_owned()), Some(info[i + 1..].to_owned())),
                None => (Some(info.to_owned()), None),
            },
            None => (None, None),
        };
        let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
            let end = stripped
                .find(']')
                .ok_or_else(|| err("unclosed [ in IPv6 host"))?;
            let host = &stripped[..end];
            let after = &stripped[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse::<u16>().map_err(|_| err("invalid port"))?,
                None if after.is_empty() => 0,
                None => return Err(err("unexpected text after IPv6 host")),
            };
            (host.to_owned(), port)
        } else {
            match hostport.rfind(':') {
                Some(i) => {
                    let port = &hostport[i + 1..];
                    let port = if port.is_empty() {
                        0
                    } else {
                        port.parse::<u16>().map_err(|_| err("invalid port"))?
                    };
                    (hostport[..i].to_owned(), port)
                }
                None => (hostport.to_owned(), 0),
            }
        };
        let mut params = BTreeMap::new();
        if let Some(query) = query {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.find('=') {
                    Some(i) => {
                        params.insert(pair[..i].to_owned(), pair[i + 1..].to_owned());
                    }
                    None => {
                        params.insert(pair.to_owned(), pair.to_owned());
                    }
                }
            }
        }
        Ok(Url {
            protocol: protocol.to_owned(),
            username,
            password,
            host,
            port,
            path: path.to_owned(),
            params,
        })
    }

    /// The protocol (scheme), e.g. `tri`, `dubbo`, `zookeeper`.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The host (without IPv6 brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, `0` if absent.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` (IPv6 hosts bracketed).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Resolves `host:port` to socket addresses.
    pub async fn socket_addrs(&self) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((self.host.as_str(), self.port))
            .await?
            .collect())
    }

    /// The path without the leading `/` (normally the service interface name).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The user name, if any.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password, if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// A parameter value.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// A parameter value, or `default` when absent or empty.
    pub fn param_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        match self.param(key) {
            Some(v) if !v.is_empty() => v,
            _ => default,
        }
    }

    /// A parameter parsed as a number; `None` when absent or malformed.
    pub fn param_u64(&self, key: &str) -> Option<u64> {
        self.param(key).and_then(|v| v.trim().parse().ok())
    }

    /// A parameter parsed as a boolean (`true`/`false`, case-insensitive).
    pub fn param_bool(&self, key: &str) -> Option<bool> {
        self.param(key).and_then(|v| {
            if v.eq_ignore_ascii_case("true") {
                Some(true)
            } else if v.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        })
    }

    /// All parameters, sorted by key.
    pub fn params(&self) -> &BTreeMap<String, String> {
        &self.params
    }

    /// Sets a parameter.
    pub fn set_param(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.params.insert(key.into(), value.into());
    }

    /// Sets a parameter, builder style.
    #[must_use]
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Url {
        self.set_param(key, value);
        self
    }

    /// Removes a parameter.
    pub fn remove_param(&mut self, key: &str) -> Option<String> {
        self.params.remove(key)
    }

    /// Sets the path (without leading `/`).
    pub fn set_path(&mut self, path: impl Into<String>) {
        self.path = path.into();
    }

    /// Sets the path, builder style.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Url {
        self.set_path(path);
        self
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, protocol: impl Into<String>) {
        self.protocol = protocol.into();
    }

    /// Sets host and port.
    pub fn set_address(&mut self, host: impl Into<String>, port: u16) {
        self.host = host.into();
        self.port = port;
    }

    /// The service interface: the `interface` parameter, else the path.
    pub fn interface(&self) -> &str {
        match self.param("interface") {
            Some(i) if !i.is_empty() => i,
            _ => &self.path,
        }
    }

    /// The `group` parameter, empty when absent.
    pub fn group(&self) -> &str {
        self.param_or("group", "")
    }

    /// The `version` parameter, empty when absent.
    pub fn version(&self) -> &str {
        self.param_or("version", "")
    }

    /// Dubbo's service key `group/interface:version` (empty parts omitted).
    pub fn service_key(&self) -> String {
        service_key(self.interface(), self.group(), self.version())
    }
}

/// Dubbo's service key `group/interface:version`, leaving out empty parts.
pub fn service_key(interface: &str, group: &str, version: &str) -> String {
    let mut key = String::with_capacity(interface.len() + group.len() + version.len() + 2);
    if !group.is_empty() {
        key.push_str(group);
        key.push('/');
    }
    key.push_str(interface);
    if !version.is_empty() {
        key.push(':');
        key.push_str(version);
    }
    key
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.protocol)?;
        if let Some(user) = &self.username {
            f.write_str(user)?;
            if let Some(pass) = &self.password {
                write!(f, ":{pass}")?;
            }
            f.write_str("@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if self.port != 0 {
            write!(f, ":{}", self.port)?;
        }
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        let mut first = true;
        for (k, v) in &self.params {
            f.write_str(if first { "?" } else { "&" })?;
            first = false;
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({self})")
    }
}

impl FromStr for Url {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Url, UrlError> {
        Url::parse(s)
    }
}

/// Conversion into a [`Url`], implemented for strings and URLs.
pub trait IntoUrl {
    /// Performs the conversion.
    fn into_url(self) -> Result<Url, UrlError>;
}

impl IntoUrl for Url {
    fn into_url(self) -> Result<Url, UrlError> {
        Ok(self)
    }
}

impl IntoUrl for &Url {
    fn into_url(self) -> Result<Url, UrlError> {
        Ok(self.clone())
    }
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Url, UrlError> {
        Url::parse(self)
    }
}

impl IntoUrl for String {
    fn into_url(self) -> Result<Url, UrlError> {
        Url::parse(&self)
    }
}

impl IntoUrl for &String {
    fn into_url(self) -> Result<Url, UrlError> {
        Url::parse(self)
    }
}

impl IntoUrl for SocketAddr {
    fn into_url(self) -> Result<Url, UrlError> {
        Ok(Url::new("tri", self.ip().to_string(), self.port()))
    }
}

/// Encodes like Java's `URLEncoder.encode(s, "UTF-8")`: letters, digits and `.-*_` stay,
/// space becomes `+`, every other byte becomes `%XX` (upper-case hex).
pub fn encode(input: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() * 3 / 2);
    for &b in input.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

/// Form-URL decoding that accepts both Java `URLEncoder` and Go `url.QueryEscape` output:
/// `+` is a space and `%XX` a byte. Malformed escapes are kept literally; invalid UTF-8 is
/// replaced.
pub fn decode(input: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let decoded = bytes
                    .get(i + 1)
                    .and_then(|&h| hex(h))
                    .zip(bytes.get(i + 2).and_then(|&l| hex(l)));
                match decoded {
                    Some((h, l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_urls() {
        let url =
            Url::parse("dubbo://admin:secret@10.0.0.5:20880/com.foo.Bar?b=2&a=1&flag").unwrap();
        assert_eq!(url.protocol(), "dubbo");
        assert_eq!(url.username(), Some("admin"));
        assert_eq!(url.password(), Some("secret"));
        assert_eq!(url.host(), "10.0.0.5");
        assert_eq!(url.port(), 20880);
        assert_eq!(url.path(), "com.foo.Bar");
        assert_eq!(url.param("flag"), Some("flag"));
        assert_eq!(
            url.to_string(),
            "dubbo://admin:secret@10.0.0.5:20880/com.foo.Bar?a=1&b=2&flag=flag"
        );
    }

    #[test]
    fn parses_ipv6_and_bare_addresses() {
        let url = Url::parse("tri://[::1]:8080/svc").unwrap();
        assert_eq!(url.host(), "::1");
        assert_eq!(url.port(), 8080);
        assert_eq!(url.address(), "[::1]:8080");
        assert_eq!(url.to_string(), "tri://[::1]:8080/svc");
        let bare = Url::parse("127.0.0.1:50051").unwrap();
        assert_eq!(bare.protocol(), "tri");
        assert_eq!(bare.port(), 50051);
        let no_port = Url::parse("zookeeper://zk-host").unwrap();
        assert_eq!(no_port.port(), 0);
        assert_eq!(no_port.to_string(), "zookeeper://zk-host");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Url::parse("").is_err());
        assert!(Url::parse("://x").is_err());
        assert!(Url::parse("tri://host:notaport").is_err());
        assert!(Url::parse("tri://[::1").is_err());
        assert!(Url::parse("t i://host").is_err());
        assert!(Url::parse("tri://host:70000").is_err());
    }

    #[test]
    fn service_keys_match_dubbo() {
        let url = Url::parse("tri://h:1/com.Foo?group=g&version=1.0.0").unwrap();
        assert_eq!(url.service_key(), "g/com.Foo:1.0.0");
        assert_eq!(service_key("com.Foo", "", ""), "com.Foo");
        let url = Url::parse("tri://h:1/p?interface=com.Real").unwrap();
        assert_eq!(url.interface(), "com.Real");
    }

    #[test]
    fn encode_matches_java_url_encoder() {
        assert_eq!(
            encode("tri://10.0.0.5:50051/a.B?x=1&y=a,b"),
            "tri%3A%2F%2F10.0.0.5%3A50051%2Fa.B%3Fx%3D1%26y%3Da%2Cb"
        );
        assert_eq!(encode("a b*~"), "a+b*%7E");
        assert_eq!(encode("中"), "%E4%B8%AD");
    }

    #[test]
    fn decode_accepts_java_and_go_forms() {
        assert_eq!(decode("a+b*%7E"), "a b*~");
        assert_eq!(decode("a+b%2A~"), "a b*~");
        assert_eq!(decode("%E4%B8%AD"), "中");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        let url = "tri://10.0.0.5:50051/a.B?methods=x,y&side=provider";
        assert_eq!(decode(&encode(url)), url);
    }
}
