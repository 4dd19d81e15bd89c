//! Which providers a consumer wants (Java Dubbo's `UrlUtils.isMatch` rules), and the URLs
//! providers and consumers register.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::url::Url;

const ANY: &str = "*";

fn timestamp() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string()
}

/// Whether `provider` serves what `consumer` asks for:
/// - same interface (or either is `*`), provider category `providers`, not `enabled=false`;
/// - group: the consumer's is `*`, equal, or a comma list containing the provider's;
/// - version: the consumer's is `*` or equal (absent equals absent);
/// - classifier: the consumer's is absent, `*` or equal;
/// - protocol: when the consumer names one (`protocol=tri`), the provider's must match.
///
/// ```
/// use dubbo_runtime::registry::is_match;
/// use dubbo_runtime::Url;
/// let consumer = Url::parse("consumer://10.0.0.9/com.Foo?version=1.0.0&group=a,b").unwrap();
/// let provider = Url::parse("tri://10.0.0.5:50051/com.Foo?version=1.0.0&group=b").unwrap();
/// assert!(is_match(&consumer, &provider));
/// ```
pub fn is_match(consumer: &Url, provider: &Url) -> bool {
    let consumer_interface = consumer.interface();
    let provider_interface = provider.interface();
    if !(consumer_interface == ANY
        || provider_interface == ANY
        || consumer_interface == provider_interface)
    {
        return false;
    }
    if provider.param_or("category", "providers") != "providers" {
        return false;
    }
    if provider.param_bool("enabled") == Some(false) && consumer.param("enabled") != Some(ANY) {
        return false;
    }
    let consumer_group = consumer.group();
    let provider_group = provider.group();
    let group_ok = consumer_group == ANY
        || consumer_group == provider_group
        || (consumer_group.contains(',')
            && consumer_group
                .split(',')
                .any(|g| g.trim() == provider_group));
    if !group_ok {
        return false;
    }
    let consumer_version = consumer.version();
    if !(consumer_version == ANY || consumer_version == provider.version()) {
        return false;
    }
    let classifier = consumer.param_or("classifier", ANY);
    if classifier != ANY && provider.param("classifier") != Some(classifier) {
        return false;
    }
    match consumer.param("protocol") {
        Some(wanted) if !wanted.is_empty() && wanted != ANY => {
            wanted.split(',').any(|p| p.trim() == provider.protocol())
        }
        _ => true,
    }
}

/// The URL a provider registers for an exported service URL: adds the parameters Java and Go
/// consumers expect (`dynamic`, `deprecated`, `generic`, `side`, `timestamp`, …).
pub fn provider_url(exported: &Url) -> Url {
    let mut url = exported.clone();
    for (key, value) in [
        ("anyhost", "false"),
        ("deprecated", "false"),
        ("dubbo", "2.0.2"),
        ("dynamic", "true"),
        ("generic", "false"),
        ("side", "provider"),
        ("release", env!("CARGO_PKG_VERSION")),
    ] {
        if url.param(key).is_none() {
            url.set_param(key, value);
        }
    }
    if url.param("interface").is_none() {
        let interface = url.path().to_owned();
        url.set_param("interface", interface);
    }
    if url.param("timestamp").is_none() {
        url.set_param("timestamp", timestamp());
    }
    url
}

/// The URL a consumer registers under `/consumers` and subscribes with.
pub fn consumer_url(
    host: &str,
    interface: &str,
    group: &str,
    version: &str,
    application: &str,
    methods: &str,
) -> Url {
    let mut url = Url::new("consumer", host, 0).with_path(interface);
    for (key, value) in [
        ("category", "consumers"),
        ("check", "false"),
        ("dubbo", "2.0.2"),
        ("interface", interface),
        ("methods", methods),
        ("release", env!("CARGO_PKG_VERSION")),
        ("side", "consumer"),
    ] {
        url.set_param(key, value);
    }
    url.set_param("timestamp", timestamp());
    if !application.is_empty() {
        url.set_param("application", application);
    }
    if !group.is_empty() {
        url.set_param("group", group);
    }
    if !version.is_empty() {
        url.set_param("version", version);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumer(q: &str) -> Url {
        Url::parse(&format!("consumer://10.0.0.9/com.Foo?{q}")).unwrap()
    }

    fn provider(q: &str) -> Url {
        Url::parse(&format!("tri://10.0.0.5:50051/com.Foo?{q}")).unwrap()
    }

    #[test]
    fn group_and_version_rules() {
        assert!(is_match(&consumer(""), &provider("")));
        assert!(is_match(
            &consumer("version=1.0.0"),
            &provider("version=1.0.0")
        ));
        assert!(!is_match(
            &consumer("version=1.0.0"),
            &provider("version=2.0.0")
        ));
        assert!(!is_match(&consumer("version=1.0.0"), &provider("")));
        assert!(!is_match(&consumer(""), &provider("version=1.0.0")));
        assert!(is_match(&consumer("version=*"), &provider("version=9")));
        assert!(is_match(&consumer("group=*"), &provider("group=x")));
        assert!(is_match(&consumer("group=a,b"), &provider("group=b")));
        assert!(!is_match(&consumer("group=a,b"), &provider("group=c")));
        assert!(!is_match(&consumer("group=a"), &provider("")));
        assert!(!is_match(&consumer(""), &provider("group=a")));
    }

    #[test]
    fn interface_category_enabled_classifier_protocol() {
        let other = Url::parse("tri://10.0.0.5:1/com.Bar").unwrap();
        assert!(!is_match(&consumer(""), &other));
        let any = Url::parse("consumer://h/*").unwrap();
        assert!(is_match(&any, &other));
        assert!(!is_match(
            &consumer(""),
            &provider("category=configurators")
        ));
        assert!(!is_match(&consumer(""), &provider("enabled=false")));
        assert!(is_match(&consumer("enabled=*"), &provider("enabled=false")));
        assert!(is_match(
            &consumer("classifier=x"),
            &provider("classifier=x")
        ));
        assert!(!is_match(&consumer("classifier=x"), &provider("")));
        assert!(is_match(&consumer("protocol=tri"), &provider("")));
        assert!(!is_match(&consumer("protocol=dubbo"), &provider("")));
        // The path may differ from the interface when `interface=` says so.
        let renamed = Url::parse("tri://h:1/some-path?interface=com.Foo").unwrap();
        assert!(is_match(&consumer(""), &renamed));
    }

    #[test]
    fn registered_urls_carry_the_expected_parameters() {
        let exported =
            Url::parse("tri://10.0.0.5:50051/com.Foo?methods=a,b&version=1.0.0").unwrap();
        let url = provider_url(&exported);
        for key in [
            "dynamic",
            "deprecated",
            "generic",
            "side",
            "timestamp",
            "interface",
            "dubbo",
            "release",
        ] {
            assert!(url.param(key).is_some(), "{key}");
        }
        assert_eq!(url.param("side"), Some("provider"));
        assert_eq!(url.param("interface"), Some("com.Foo"));
        let consumer = consumer_url("10.0.0.9", "com.Foo", "g", "1.0.0", "app", "a,b");
        assert_eq!(consumer.protocol(), "consumer");
        assert_eq!(consumer.param("category"), Some("consumers"));
        assert_eq!(consumer.group(), "g");
        assert_eq!(consumer.version(), "1.0.0");
        assert!(is_match(&consumer, &url.with_param("group", "g")));
    }
}
