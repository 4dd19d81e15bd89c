//! The awkward generated code compiles (see build.rs) and works: every oddly named method is
//! callable over Triple, nested packages and Java class names come out right, and well-known
//! types travel.

use codegen_tests::a::b::Outer;
use codegen_tests::a::b::c::{Nest, NestClient, NestServer, Wrapper};
use codegen_tests::awkward::names::{
    NOTHING_DESCRIPTOR, NothingServer, Request, Response, Result as Res, TYPE_DESCRIPTOR, Type,
    TypeClient, TypeServer,
};
use codegen_tests::wkt::{Clock, ClockClient, ClockServer, Everything};
use dubbo_runtime::codegen::Message;
use dubbo_runtime::{BoxStream, Code, Server, Status, Streaming};
use futures_util::StreamExt as _;

type Reply<T> = std::result::Result<dubbo_runtime::Response<T>, Status>;

struct Awkward;

impl Type for Awkward {
    async fn r#type(&self, request: dubbo_runtime::Request<Request>) -> Reply<Res> {
        Ok(dubbo_runtime::Response::new(Res {
            r#type: request.into_inner().r#fn,
            ..Default::default()
        }))
    }

    async fn connect(&self, _request: dubbo_runtime::Request<()>) -> Reply<()> {
        Ok(dubbo_runtime::Response::new(()))
    }

    async fn new(&self, request: dubbo_runtime::Request<Request>) -> Reply<BoxStream<Response>> {
        let n = request.into_inner().r#fn.len();
        let stream = futures_util::stream::iter((0..n).map(|_| Ok(Response::default())));
        Ok(dubbo_runtime::Response::new(
            Box::pin(stream) as BoxStream<Response>
        ))
    }

    async fn builder(
        &self,
        request: dubbo_runtime::Request<Streaming<Request>>,
    ) -> Reply<Response> {
        let mut count = 0;
        let mut stream = request.into_inner();
        while stream.message().await?.is_some() {
            count += 1;
        }
        Ok(dubbo_runtime::Response::new(Response {
            results: vec![Res::default(); count],
            blob: Some(vec![count as u8]),
        }))
    }

    async fn self_(
        &self,
        request: dubbo_runtime::Request<Streaming<Res>>,
    ) -> Reply<BoxStream<Res>> {
        let echo = request.into_inner().map(|r| {
            r.map(|mut r| {
                r.self_ += 1;
                r
            })
        });
        Ok(dubbo_runtime::Response::new(
            Box::pin(echo) as BoxStream<Res>
        ))
    }
}

struct Empty;

impl codegen_tests::awkward::names::Nothing for Empty {}

struct Clocks;

impl Clock for Clocks {
    async fn now(
        &self,
        _request: dubbo_runtime::Request<()>,
    ) -> Reply<dubbo_runtime::codegen::prost_types::Timestamp> {
        Ok(dubbo_runtime::Response::new(
            dubbo_runtime::codegen::prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 5,
            },
        ))
    }

    async fn echo(&self, request: dubbo_runtime::Request<Everything>) -> Reply<Everything> {
        Ok(dubbo_runtime::Response::new(request.into_inner()))
    }
}

struct Nester;

impl Nest for Nester {
    async fn wrap(&self, request: dubbo_runtime::Request<Outer>) -> Reply<Wrapper> {
        let outer = request.into_inner();
        let deepest = outer.inner.as_ref().and_then(|i| i.deepest.clone());
        Ok(dubbo_runtime::Response::new(Wrapper {
            outer: Some(outer),
            deepest,
        }))
    }
}

#[tokio::test]
async fn awkward_names_work_over_triple() {
    let server = Server::builder()
        .add_service(TypeServer::new(Awkward))
        .add_service(NothingServer::new(Empty))
        .add_service(ClockServer::new(Clocks))
        .add_service(NestServer::new(Nester))
        .start("tri://127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("tri://{}", server.local_addr());

    let client = TypeClient::connect(url.as_str()).await.unwrap();
    let reply = client
        .r#type(Request {
            r#fn: "f".into(),
            response: None,
        })
        .await
        .unwrap();
    assert_eq!(reply.into_inner().r#type, "f");
    client.call_connect(()).await.unwrap();
    let stream = client
        .call_new(Request {
            r#fn: "abc".into(),
            response: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stream.count().await, 3);
    let reply = client
        .call_builder(futures_util::stream::iter(vec![Request::default(); 4]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.results.len(), 4);
    assert_eq!(reply.blob, Some(vec![4]));
    let replies: Vec<_> = client
        .self_(futures_util::stream::iter(vec![Res {
            self_: 1,
            ..Default::default()
        }]))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].as_ref().unwrap().self_, 2);

    let clock = ClockClient::connect(url.as_str()).await.unwrap();
    let now = clock.now(()).await.unwrap().into_inner();
    assert_eq!((now.seconds, now.nanos), (1_700_000_000, 5));
    let everything = Everything {
        at: Some(now),
        blobs: [("k".to_owned(), vec![1, 2])].into_iter().collect(),
        chunks: vec![vec![3], vec![]],
        maybe_name: Some("n".into()),
        maybe_data: Some(vec![]),
        when: Some(codegen_tests::wkt::everything::When::Raw(vec![9])),
        ..Default::default()
    };
    assert_eq!(
        clock.echo(everything.clone()).await.unwrap().into_inner(),
        everything
    );

    let nest = NestClient::connect(url.as_str()).await.unwrap();
    let outer = Outer {
        inner: Some(codegen_tests::a::b::outer::Inner {
            deepest: Some(codegen_tests::a::b::outer::inner::Deepest {
                value: "deep".into(),
            }),
        }),
        ..Default::default()
    };
    let wrapped = nest.wrap(outer).await.unwrap().into_inner();
    assert_eq!(wrapped.deepest.unwrap().value, "deep");
    server.shutdown().await;
}

#[test]
fn descriptors_and_java_class_names() {
    assert_eq!(TYPE_DESCRIPTOR.name, "awkward.names.Type");
    let names: Vec<_> = TYPE_DESCRIPTOR.methods.iter().map(|m| m.name).collect();
    assert_eq!(names, ["type", "Connect", "New", "Builder", "Self"]);
    assert_eq!(
        TYPE_DESCRIPTOR.methods[1].request_class,
        "com.google.protobuf.Empty"
    );
    assert!(NOTHING_DESCRIPTOR.methods.is_empty());
    assert_eq!(Res::JAVA_CLASS, "awkward.names.Result");
    assert_eq!(Outer::JAVA_CLASS, "com.example.ab.Outer");
    assert_eq!(
        codegen_tests::a::b::outer::inner::Deepest::JAVA_CLASS,
        "com.example.ab.Outer$Inner$Deepest"
    );
    assert_eq!(Wrapper::JAVA_CLASS, "a.b.c.Wrapper");
}

#[tokio::test]
async fn a_service_without_methods_answers_unimplemented() {
    let server = Server::builder()
        .add_service(NothingServer::new(Empty))
        .start("tri://127.0.0.1:0")
        .await
        .unwrap();
    // Reach it with a client for another service under the same name.
    let url = format!("tri://{}/awkward.names.Nothing", server.local_addr());
    let client = TypeClient::builder(url.as_str()).connect().await.unwrap();
    let status = client.call_connect(()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    server.shutdown().await;
}

#[test]
fn generated_messages_round_trip_through_hessian() {
    use dubbo_runtime::Payload;
    use dubbo_runtime::codegen::prost_types;
    use dubbo_runtime::hessian2::{Decoder, Encoder};

    let everything = Everything {
        at: Some(prost_types::Timestamp {
            seconds: 1,
            nanos: 2,
        }),
        took: Some(prost_types::Duration {
            seconds: 3,
            nanos: 4,
        }),
        any: Some(prost_types::Any {
            type_url: "t/x".into(),
            value: vec![1, 2],
        }),
        doc: Some(prost_types::Struct {
            fields: [(
                "k".to_owned(),
                prost_types::Value {
                    kind: Some(prost_types::value::Kind::StringValue("v".into())),
                },
            )]
            .into_iter()
            .collect(),
        }),
        value: Some(prost_types::Value {
            kind: Some(prost_types::value::Kind::NumberValue(1.5)),
        }),
        list: Some(prost_types::ListValue {
            values: vec![prost_types::Value {
                kind: Some(prost_types::value::Kind::BoolValue(true)),
            }],
        }),
        mask: Some(prost_types::FieldMask {
            paths: vec!["a.b".into()],
        }),
        maybe_name: Some("name".into()),
        maybe_count: Some(-7),
        history: vec![prost_types::Timestamp {
            seconds: 9,
            nanos: 0,
        }],
        durations: [(
            "d".to_owned(),
            prost_types::Duration {
                seconds: 1,
                nanos: 0,
            },
        )]
        .into_iter()
        .collect(),
        type_info: Some(prost_types::Type {
            name: "T".into(),
            ..Default::default()
        }),
        when: Some(codegen_tests::wkt::everything::When::Exact(
            prost_types::Timestamp {
                seconds: 5,
                nanos: 6,
            },
        )),
        chunks: vec![vec![1], vec![2, 3]],
        blobs: [("b".to_owned(), vec![4, 5])].into_iter().collect(),
        data: vec![6],
        maybe_data: Some(vec![7]),
        nothing: 0,
        color: 1,
    };
    let mut encoder = Encoder::new();
    Payload::typed(everything.clone())
        .encode_hessian(&mut encoder)
        .unwrap();
    let value = Decoder::new(encoder.as_bytes()).read_value().unwrap();
    assert_eq!(value.class_name(), Some("wkt.Everything"));
    assert_eq!(
        value.get("maybeName").and_then(|v| v.as_str()),
        Some("name")
    );
    assert!(matches!(
        value.get("data"),
        Some(dubbo_runtime::hessian2::Value::Binary(b)) if b == &[6]
    ));
    let back: Everything = Payload::hessian(value).decode().unwrap();
    assert_eq!(back, everything);

    let outer = Outer {
        inner: Some(codegen_tests::a::b::outer::Inner {
            deepest: Some(codegen_tests::a::b::outer::inner::Deepest { value: "d".into() }),
        }),
        choice: Some(codegen_tests::a::b::outer::Choice::Text("t".into())),
        ..Default::default()
    };
    let mut encoder = Encoder::new();
    Payload::typed(outer.clone())
        .encode_hessian(&mut encoder)
        .unwrap();
    let value = Decoder::new(encoder.as_bytes()).read_value().unwrap();
    assert_eq!(
        value.get("inner").and_then(|i| i.class_name()),
        Some("com.example.ab.Outer$Inner")
    );
    assert_eq!(Payload::hessian(value).decode::<Outer>().unwrap(), outer);
}
