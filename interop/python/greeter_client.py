#!/usr/bin/env python3
"""Checks a Greeter server against the contract with grpcio, one line per check.

    greeter_client.py --target HOST:PORT [--version V] [--group G]

Prints "ok   NAME" or "FAIL NAME: REASON" per check, then "N checks, M failed"; exits 0 only
if every check passed. --version / --group are sent as the tri-service-version /
tri-service-group metadata of every call. The contract is in examples/src/greeter_service.rs.
"""

import argparse
import importlib
import os
import queue
import sys
import tempfile
import time
import traceback

import grpc

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO_DIR = os.path.join(REPO_ROOT, "proto")
PROTO_FILE = "greeter.proto"
SERVICE = "org.apache.dubbo.sample.Greeter"

# Upper bound of any single call that is not about deadlines.
CALL_TIMEOUT = 20.0


def load_stubs():
    """Imports greeter_pb2 / greeter_pb2_grpc, generated from proto/greeter.proto.

    The stubs are generated with grpc_tools.protoc once per (proto content, grpcio-tools
    version) into a cache directory under the venv (or the system temp dir outside a venv),
    by writing a private directory and renaming it into place, so concurrent runs are safe.
    """
    import hashlib
    import shutil
    from importlib import metadata

    import grpc_tools
    from grpc_tools import protoc

    proto_path = os.path.join(PROTO_DIR, PROTO_FILE)
    with open(proto_path, "rb") as f:
        key = hashlib.sha256(f.read() + metadata.version("grpcio-tools").encode()).hexdigest()
    in_venv = sys.prefix != sys.base_prefix
    cache_root = os.path.join(sys.prefix if in_venv else tempfile.gettempdir(), "greeter-stubs")
    out_dir = os.path.join(cache_root, key[:16])
    ready = os.path.join(out_dir, "greeter_pb2_grpc.py")
    if not os.path.isfile(ready):
        os.makedirs(cache_root, exist_ok=True)
        work = tempfile.mkdtemp(prefix=".tmp-", dir=cache_root)
        try:
            well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
            rc = protoc.main(
                [
                    "grpc_tools.protoc",
                    f"-I{PROTO_DIR}",
                    f"-I{well_known}",
                    f"--python_out={work}",
                    f"--grpc_python_out={work}",
                    proto_path,
                ]
            )
            if rc != 0:
                raise RuntimeError(f"protoc failed on {proto_path} (exit {rc})")
            try:
                os.rename(work, out_dir)
            except OSError:
                if not os.path.isfile(ready):  # not just another process being first
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    sys.path.insert(0, out_dir)
    return importlib.import_module("greeter_pb2"), importlib.import_module("greeter_pb2_grpc")


class CheckFailed(Exception):
    pass


def expect(cond, reason):
    if not cond:
        raise CheckFailed(reason() if callable(reason) else reason)


def first(metadata, key):
    """The first value of key in a metadata sequence, or None."""
    for k, v in metadata or ():
        if k == key:
            return v
    return None


def describe(err):
    if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
        return f"{err.code().name}: {err.details()!r}"
    return repr(err)


def expect_error(fn, code):
    """Runs fn, which must raise grpc.RpcError with `code`; returns the error."""
    try:
        value = fn()
    except grpc.RpcError as err:
        expect(err.code() == code, lambda: f"expected {code.name}, got {describe(err)}")
        return err
    raise CheckFailed(f"expected {code.name}, got success {value!r}")


class Checks:
    def __init__(self, pb2, pb2_grpc, target, version, group):
        self.pb2 = pb2
        self.pb2_grpc = pb2_grpc
        self.target = target
        self.base_md = []
        if version:
            self.base_md.append(("tri-service-version", version))
        if group:
            self.base_md.append(("tri-service-group", group))
        options = [
            ("grpc.max_receive_message_length", 16 * 1024 * 1024),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
        ]
        self.channel = grpc.insecure_channel(target, options=options)
        self.stub = pb2_grpc.GreeterStub(self.channel)
        self.options = options

    def md(self, *extra):
        return tuple(self.base_md) + tuple(extra)

    def req(self, name, count=0, payload=b""):
        return self.pb2.HelloRequest(name=name, count=count, payload=payload)

    def close(self):
        self.channel.close()

    # --- checks -------------------------------------------------------------------------

    def connect(self):
        grpc.channel_ready_future(self.channel).result(timeout=10)

    def unary(self):
        reply = self.stub.SayHello(
            self.req("world", payload=b"\x01\x02\x03"), metadata=self.md(), timeout=CALL_TIMEOUT
        )
        expect(reply.message == "Hello world", lambda: f"message {reply.message!r}")
        expect(reply.payload == b"\x01\x02\x03", lambda: f"payload {reply.payload!r}")

    def metadata(self):
        reply, call = self.stub.SayHello.with_call(
            self.req("meta"),
            metadata=self.md(
                ("x-echo-color", "blue"),
                ("x-echo-raw-bin", b"\x00\x01\xfe\xff"),
                ("x-not-echoed", "1"),
            ),
            timeout=CALL_TIMEOUT,
        )
        expect(reply.message == "Hello meta", lambda: f"message {reply.message!r}")
        headers = call.initial_metadata()
        expect(first(headers, "x-echo-color") == "blue", lambda: f"x-echo-color header missing: {headers!r}")
        raw = first(headers, "x-echo-raw-bin")
        expect(raw == b"\x00\x01\xfe\xff", lambda: f"x-echo-raw-bin header wrong: {raw!r} in {headers!r}")
        expect(first(headers, "x-not-echoed") is None, "x-not-echoed was echoed")
        trailers = call.trailing_metadata()
        expect(first(trailers, "x-trailer") == "done", lambda: f"x-trailer missing: {trailers!r}")

    def server_streaming(self):
        call = self.stub.SayHelloServerStream(
            self.req("stream", count=5), metadata=self.md(), timeout=CALL_TIMEOUT
        )
        got = [reply.message for reply in call]
        want = [f"Hello stream {i}" for i in range(5)]
        expect(got == want, lambda: f"replies {got!r}")
        expect(call.code() == grpc.StatusCode.OK, lambda: f"status {call.code()}")
        trailers = call.trailing_metadata()
        expect(first(trailers, "x-trailer") == "done", lambda: f"x-trailer missing: {trailers!r}")

    def client_streaming(self):
        requests = [self.req(n, payload=bytes([i])) for i, n in enumerate(["a", "b", "c"])]
        reply, call = self.stub.SayHelloClientStream.with_call(
            iter(requests), metadata=self.md(), timeout=CALL_TIMEOUT
        )
        expect(reply.message == "Hello abc", lambda: f"message {reply.message!r}")
        expect(reply.payload == b"\x00\x01\x02", lambda: f"payload {reply.payload!r}")
        trailers = call.trailing_metadata()
        expect(first(trailers, "x-trailer") == "done", lambda: f"x-trailer missing: {trailers!r}")

    def bidi_streaming(self):
        outbox = queue.Queue()
        done = object()

        def requests():
            while True:
                try:
                    item = outbox.get(timeout=CALL_TIMEOUT)
                except queue.Empty:
                    return
                if item is done:
                    return
                yield item

        call = self.stub.SayHelloBidi(requests(), metadata=self.md(), timeout=CALL_TIMEOUT)
        try:
            # Ping-pong: each reply must arrive before the next request is sent.
            for name in ["x", "y", "z"]:
                outbox.put(self.req(name, payload=name.encode()))
                reply = next(call, None)
                expect(reply is not None, "stream ended early")
                expect(reply.message == f"Hello {name}", lambda: f"reply {reply.message!r}")
                expect(reply.payload == name.encode(), lambda: f"payload {reply.payload!r}")
            outbox.put(done)
            extra = next(call, None)
            expect(extra is None, lambda: f"unexpected extra reply {extra!r}")
            expect(call.code() == grpc.StatusCode.OK, lambda: f"status {call.code()}")
            trailers = call.trailing_metadata()
            expect(first(trailers, "x-trailer") == "done", lambda: f"x-trailer missing: {trailers!r}")
        finally:
            outbox.put(done)
            call.cancel()

    def unary_error(self):
        err = expect_error(
            lambda: self.stub.SayHello(self.req("error:5"), metadata=self.md(), timeout=CALL_TIMEOUT),
            grpc.StatusCode.NOT_FOUND,
        )
        expect(err.details() == "requested", lambda: f"details {err.details()!r}")
        trailers = err.trailing_metadata()
        expect(first(trailers, "x-trailer") == "done", lambda: f"x-trailer missing: {trailers!r}")

    def streaming_errors(self):
        # Server streaming: the error comes instead of any message.
        call = self.stub.SayHelloServerStream(self.req("error:9"), metadata=self.md(), timeout=CALL_TIMEOUT)
        err = expect_error(lambda: list(call), grpc.StatusCode.FAILED_PRECONDITION)
        expect(err.details() == "requested", lambda: f"server-stream details {err.details()!r}")
        trailers = err.trailing_metadata()
        expect(first(trailers, "x-trailer") == "done", lambda: f"x-trailer missing on server-stream error: {trailers!r}")

        # Bidi: one reply, then ABORTED.
        call = self.stub.SayHelloBidi(
            iter([self.req("ok"), self.req("error:10")]), metadata=self.md(), timeout=CALL_TIMEOUT
        )
        try:
            reply = next(call, None)
        except grpc.RpcError as e:
            raise CheckFailed(f"bidi: first reply failed with {describe(e)}")
        expect(reply is not None and reply.message == "Hello ok", lambda: f"first bidi reply {reply!r}")
        err = expect_error(lambda: next(call), grpc.StatusCode.ABORTED)
        expect(err.details() == "requested", lambda: f"bidi details {err.details()!r}")
        trailers = err.trailing_metadata()
        expect(first(trailers, "x-trailer") == "done", lambda: f"x-trailer missing on bidi error: {trailers!r}")

        # Client streaming.
        err = expect_error(
            lambda: self.stub.SayHelloClientStream(
                iter([self.req("error:3")]), metadata=self.md(), timeout=CALL_TIMEOUT
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        expect(err.details() == "requested", lambda: f"client-stream details {err.details()!r}")

    def deadline(self):
        started = time.monotonic()
        expect_error(
            lambda: self.stub.SayHello(self.req("sleep:2000"), metadata=self.md(), timeout=0.2),
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )
        elapsed = time.monotonic() - started
        expect(elapsed < 1.5, lambda: f"took {elapsed:.3f} s")
        reply = self.stub.SayHello(self.req("sleep:10"), metadata=self.md(), timeout=5.0)
        expect(reply.message == "Hello sleep:10", lambda: f"message {reply.message!r}")

    def gzip(self):
        payload = bytes(i % 7 for i in range(65536))
        with grpc.insecure_channel(
            self.target, options=self.options, compression=grpc.Compression.Gzip
        ) as channel:
            stub = self.pb2_grpc.GreeterStub(channel)
            reply = stub.SayHello(
                self.req("gzip", payload=payload),
                metadata=self.md(),
                timeout=CALL_TIMEOUT,
                compression=grpc.Compression.Gzip,
            )
        expect(reply.message == "Hello gzip", lambda: f"message {reply.message!r}")
        expect(reply.payload == payload, lambda: f"gzip payload mismatch ({len(reply.payload)} bytes back)")

    def large_message(self):
        payload = bytes(i % 251 for i in range(1024 * 1024))
        reply = self.stub.SayHello(self.req("large", payload=payload), metadata=self.md(), timeout=CALL_TIMEOUT)
        expect(
            reply.payload == payload,
            lambda: f"1 MiB payload came back as {len(reply.payload)} bytes",
        )

    def concurrent(self):
        calls = [
            self.stub.SayHello.future(self.req(f"c{i}"), metadata=self.md(), timeout=CALL_TIMEOUT)
            for i in range(100)
        ]
        ok = 0
        errors = []
        for i, fut in enumerate(calls):
            try:
                if fut.result(timeout=CALL_TIMEOUT).message == f"Hello c{i}":
                    ok += 1
            except grpc.RpcError as e:
                errors.append(describe(e))
            except Exception as e:  # a future that timed out
                errors.append(repr(e))
                fut.cancel()
        expect(ok == 100, lambda: f"{ok}/100 concurrent calls succeeded; first errors {errors[:3]!r}")

    def _raw_unary(self, method):
        call = self.channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        return lambda: call(b"", metadata=self.md(), timeout=CALL_TIMEOUT)

    def unimplemented_method(self):
        expect_error(self._raw_unary(f"/{SERVICE}/NoSuchMethod"), grpc.StatusCode.UNIMPLEMENTED)

    def unknown_service(self):
        expect_error(self._raw_unary("/no.such.Service/Method"), grpc.StatusCode.UNIMPLEMENTED)


def run(checks):
    names = [
        ("unary", checks.unary),
        ("metadata", checks.metadata),
        ("server-streaming", checks.server_streaming),
        ("client-streaming", checks.client_streaming),
        ("bidi-streaming", checks.bidi_streaming),
        ("unary-error", checks.unary_error),
        ("streaming-errors", checks.streaming_errors),
        ("deadline", checks.deadline),
        ("gzip", checks.gzip),
        ("1mib-message", checks.large_message),
        ("100-concurrent", checks.concurrent),
        ("unimplemented-method", checks.unimplemented_method),
        ("unknown-service", checks.unknown_service),
    ]
    try:
        checks.connect()
    except Exception as e:  # grpc.FutureTimeoutError
        print(f"FAIL connect: channel to {checks.target} not ready within 10 s ({e!r})", flush=True)
        return 1, 1
    failed = 0
    for name, fn in names:
        try:
            fn()
        except CheckFailed as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except grpc.RpcError as e:
            failed += 1
            print(f"FAIL {name}: {describe(e)}", flush=True)
        except Exception as e:
            failed += 1
            print(f"FAIL {name}: unexpected {e!r}", flush=True)
            traceback.print_exc(file=sys.stderr)
        else:
            print(f"ok   {name}", flush=True)
    return len(names), failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051", help="HOST:PORT")
    parser.add_argument("--version", help="sent as tri-service-version")
    parser.add_argument("--group", help="sent as tri-service-group")
    args = parser.parse_args()
    pb2, pb2_grpc = load_stubs()
    checks = Checks(pb2, pb2_grpc, args.target, args.version, args.group)
    try:
        total, failed = run(checks)
    finally:
        checks.close()
    print(f"{total} checks, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
