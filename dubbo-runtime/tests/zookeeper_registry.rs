//! The ZooKeeper registry against a real ZooKeeper server: the Java/Go Dubbo layout, node
//! names written by Java and Go, matching, replacing stale nodes, and session expiry.

#![cfg(all(unix, feature = "zookeeper"))]

use std::time::Duration;

use dubbo_runtime::Url;
use dubbo_runtime::registry::{Registry, ZookeeperRegistry, consumer_url, provider_url};
use test_support::zookeeper::ZooKeeper;
use zookeeper_client as zk;

async fn raw(zk_server: &ZooKeeper) -> zk::Client {
    zk::Client::connect(&zk_server.address())
        .await
        .expect("raw client")
}

async fn registry(zk_server: &ZooKeeper) -> ZookeeperRegistry {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let url = Url::parse(&format!("{}?session=4000", zk_server.url())).unwrap();
    ZookeeperRegistry::connect(url)
        .await
        .expect("registry connects")
}

fn provider(port: u16, extra: &str) -> Url {
    provider_url(
        &Url::parse(&format!(
            "tri://127.0.0.1:{port}/org.apache.dubbo.sample.Greeter?methods=SayHello,SayHelloBidi&application=p{extra}"
        ))
        .unwrap(),
    )
}

fn consumer(extra: &str) -> Url {
    let mut url = consumer_url(
        "127.0.0.1",
        "org.apache.dubbo.sample.Greeter",
        "",
        "",
        "c",
        "SayHello",
    );
    for pair in extra.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap();
        url.set_param(k, v);
    }
    url
}

async fn eventually<F: Fn() -> bool>(what: &str, f: F) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn providers_use_the_java_layout_and_are_discovered() {
    let server = ZooKeeper::start();
    let registry = registry(&server).await;
    let url = provider(20880, "");
    registry.register(url.clone()).await.unwrap();

    let zk = raw(&server).await;
    let children = zk
        .list_children("/dubbo/org.apache.dubbo.sample.Greeter/providers")
        .await
        .unwrap();
    assert_eq!(children.len(), 1);
    let node = &children[0];
    // Java's URLEncoder form of the full URL with sorted parameters.
    assert!(
        node.starts_with("tri%3A%2F%2F127.0.0.1%3A20880%2Forg.apache.dubbo.sample.Greeter%3F"),
        "{node}"
    );
    assert!(node.contains("methods%3DSayHello%2CSayHelloBidi"), "{node}");
    let decoded = dubbo_runtime::url::decode(node);
    let params: Vec<&str> = decoded.split_once('?').unwrap().1.split('&').collect();
    let mut sorted = params.clone();
    sorted.sort();
    assert_eq!(params, sorted, "parameters are sorted");
    for key in [
        "side=provider",
        "dynamic=true",
        "interface=org.apache.dubbo.sample.Greeter",
        "dubbo=2.0.2",
    ] {
        assert!(params.contains(&key), "{key} in {params:?}");
    }
    let (_, stat) = zk
        .get_data(&format!(
            "/dubbo/org.apache.dubbo.sample.Greeter/providers/{node}"
        ))
        .await
        .unwrap();
    assert_ne!(stat.ephemeral_owner, 0, "provider nodes are ephemeral");

    let mut subscription = registry.subscribe(consumer("")).await.unwrap();
    assert_eq!(subscription.current().len(), 1);
    assert_eq!(subscription.current()[0].port(), 20880);

    registry.unregister(url).await.unwrap();
    let now = subscription.changed().await.unwrap();
    assert!(now.is_empty());

    // Consumers register under /consumers.
    registry.register(consumer("")).await.unwrap();
    let consumers = zk
        .list_children("/dubbo/org.apache.dubbo.sample.Greeter/consumers")
        .await
        .unwrap();
    assert_eq!(consumers.len(), 1);
    assert!(
        consumers[0].starts_with("consumer%3A%2F%2F127.0.0.1%2Forg.apache"),
        "{}",
        consumers[0]
    );
    registry.destroy().await;
    assert!(
        zk.list_children("/dubbo/org.apache.dubbo.sample.Greeter/consumers")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn node_names_from_java_and_go_decode_and_match_by_group_and_version() {
    let server = ZooKeeper::start();
    let zk = raw(&server).await;
    let dir = "/dubbo/org.apache.dubbo.sample.Greeter/providers";
    zk.mkdir(
        dir,
        &zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all()),
    )
    .await
    .unwrap();
    let java = "tri%3A%2F%2F10.0.0.5%3A50051%2Forg.apache.dubbo.sample.Greeter%3Fanyhost%3Dtrue%26application%3Djava-provider%26interface%3Dorg.apache.dubbo.sample.Greeter%26methods%3DsayHello%2CsayHelloStream%26side%3Dprovider%26version%3D1.0.0";
    // Go's url.QueryEscape keeps `~`, escapes `*` as %2A.
    let go = "tri%3A%2F%2F10.0.0.6%3A50051%2Forg.apache.dubbo.sample.Greeter%3Fapplication%3Dgo~provider%26group%3D%2A%26interface%3Dorg.apache.dubbo.sample.Greeter%26methods%3DSayHello%26side%3Dprovider%26version%3D1.0.0";
    let other_version = "dubbo%3A%2F%2F10.0.0.7%3A20880%2Forg.apache.dubbo.sample.Greeter%3Finterface%3Dorg.apache.dubbo.sample.Greeter%26version%3D2.0.0";
    for node in [java, go, other_version, "not%ZZa%20url"] {
        zk.create(
            &format!("{dir}/{node}"),
            b"",
            &zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all()),
        )
        .await
        .unwrap();
    }
    let registry = registry(&server).await;
    let v1 = registry.subscribe(consumer("version=1.0.0")).await.unwrap();
    let hosts: Vec<String> = v1.current().iter().map(|u| u.host().to_owned()).collect();
    assert_eq!(hosts, vec!["10.0.0.5"], "only the ungrouped 1.0.0 provider");
    let any_group = registry
        .subscribe(consumer("version=1.0.0&group=*"))
        .await
        .unwrap();
    let hosts: Vec<String> = any_group
        .current()
        .iter()
        .map(|u| u.host().to_owned())
        .collect();
    assert_eq!(hosts, vec!["10.0.0.5", "10.0.0.6"]);
    let go_url = any_group.current()[1].clone();
    assert_eq!(go_url.param("application"), Some("go~provider"));
    assert_eq!(go_url.group(), "*");
    let v2 = registry.subscribe(consumer("version=2.0.0")).await.unwrap();
    assert_eq!(v2.current().len(), 1);
    assert_eq!(v2.current()[0].protocol(), "dubbo");
    let tri_only = registry
        .subscribe(consumer("version=2.0.0&protocol=tri"))
        .await
        .unwrap();
    assert!(tri_only.current().is_empty());
}

#[tokio::test]
async fn an_existing_node_is_replaced_and_sessions_are_restored_after_expiry() {
    let server = ZooKeeper::start();
    let url = provider(20881, "");
    // A node left by an earlier session (here: another client's ephemeral node).
    let stale_owner = raw(&server).await;
    let (dir, node) = {
        let encoded = dubbo_runtime::url::encode(&url.to_string());
        let dir = "/dubbo/org.apache.dubbo.sample.Greeter/providers".to_owned();
        (dir.clone(), format!("{dir}/{encoded}"))
    };
    stale_owner
        .mkdir(
            &dir,
            &zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all()),
        )
        .await
        .unwrap();
    stale_owner
        .create(
            &node,
            b"",
            &zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all()),
        )
        .await
        .unwrap();
    let stale_session = stale_owner.session_id().0;

    let registry = registry(&server).await;
    registry.register(url.clone()).await.unwrap();
    let zk = raw(&server).await;
    let (_, stat) = zk.get_data(&node).await.unwrap();
    assert_ne!(
        stat.ephemeral_owner, stale_session,
        "the node now belongs to the registry"
    );
    let first_owner = stat.ephemeral_owner;

    let mut subscription = registry.subscribe(consumer("")).await.unwrap();
    assert_eq!(subscription.current().len(), 1);

    // A server that has lost every session: our reconnect is answered "session expired".
    drop(zk);
    drop(stale_owner);
    let server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.restart_fresh();
        server
    })
    .await
    .unwrap();
    let zk = raw(&server).await;
    // The registration comes back under a new session …
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((_, stat)) = zk.get_data(&node).await
            && stat.ephemeral_owner != first_owner
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node not re-registered after expiry"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // … and the subscription keeps working on it.
    registry.register(provider(20882, "")).await.unwrap();
    eventually("second provider after expiry", || {
        subscription.current().len() == 2
    })
    .await;
    let _ = subscription.changed().await;
}
