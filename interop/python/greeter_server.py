#!/usr/bin/env python3
"""A grpcio server for the Greeter contract (see examples/src/greeter_service.rs).

    greeter_server.py [--host 127.0.0.1] [--port 0] [--gzip]

- SayHello: "Hello " + name, payload echoed.
- SayHelloServerStream: `count` replies "Hello {name} {i}".
- SayHelloClientStream: one reply "Hello " + all names, payloads concatenated.
- SayHelloBidi: one reply "Hello " + name (payload echoed) per request, as each arrives.
- name "error:CODE" ends the call with that status code and details "requested";
  "sleep:MS" waits MS milliseconds first.
- request metadata keys starting with "x-echo-" come back as response headers; every call
  ends with the trailer "x-trailer: done", error calls too.

The Python stubs are generated from proto/greeter.proto at startup (cached under the
venv, see load_stubs). Prints "listening on HOST:PORT" once bound; stops on SIGTERM/SIGINT.
"""

import argparse
import importlib
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO_DIR = os.path.join(REPO_ROOT, "proto")
PROTO_FILE = "greeter.proto"


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


STATUS_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}
TRAILER = (("x-trailer", "done"),)


class Directive(Exception):
    """A request asked the call to end with a status."""

    def __init__(self, code, details):
        super().__init__(details)
        self.code = code
        self.details = details


def make_servicer(pb2, pb2_grpc, eager_headers=False):
    class Greeter(pb2_grpc.GreeterServicer):
        @staticmethod
        def _begin(context):
            """Echoes x-echo-* request metadata as response headers and sets the trailer.

            Without x-echo-* keys (and without eager_headers) grpcio sends the response
            headers lazily: with the first response message, or as part of a
            trailers-only response when the call fails first.
            """
            echo = tuple(
                (key, value)
                for key, value in context.invocation_metadata()
                if key.startswith("x-echo-")
            )
            if echo or eager_headers:
                context.send_initial_metadata(echo)
            context.set_trailing_metadata(TRAILER)

        @staticmethod
        def _apply(name, context):
            """Acts on error:CODE / sleep:MS names; raises Directive to end the call."""
            if name.startswith("error:"):
                try:
                    number = int(name[len("error:"):])
                except ValueError:
                    raise Directive(grpc.StatusCode.INVALID_ARGUMENT, f"bad error code in {name!r}")
                code = STATUS_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)
                raise Directive(code, "requested")
            if name.startswith("sleep:"):
                try:
                    ms = int(name[len("sleep:"):])
                except ValueError:
                    raise Directive(grpc.StatusCode.INVALID_ARGUMENT, f"bad sleep in {name!r}")
                # Sleep in slices so a cancelled call (deadline, client gone) frees its thread.
                until = time.monotonic() + ms / 1000.0
                while context.is_active():
                    left = until - time.monotonic()
                    if left <= 0:
                        break
                    time.sleep(min(left, 0.05))

        @staticmethod
        def _fail(context, directive):
            # abort() keeps the trailing metadata set in _begin (x-trailer: done).
            context.abort(directive.code, directive.details)

        def SayHello(self, request, context):
            self._begin(context)
            try:
                self._apply(request.name, context)
            except Directive as d:
                self._fail(context, d)
            return pb2.HelloReply(message=f"Hello {request.name}", payload=request.payload)

        def SayHelloServerStream(self, request, context):
            self._begin(context)
            try:
                self._apply(request.name, context)
            except Directive as d:
                self._fail(context, d)
            for i in range(max(request.count, 0)):
                yield pb2.HelloReply(message=f"Hello {request.name} {i}")

        def SayHelloClientStream(self, request_iterator, context):
            self._begin(context)
            names = []
            payload = bytearray()
            for request in request_iterator:
                try:
                    self._apply(request.name, context)
                except Directive as d:
                    self._fail(context, d)
                names.append(request.name)
                payload += request.payload
            return pb2.HelloReply(message="Hello " + "".join(names), payload=bytes(payload))

        def SayHelloBidi(self, request_iterator, context):
            self._begin(context)
            for request in request_iterator:
                try:
                    self._apply(request.name, context)
                except Directive as d:
                    self._fail(context, d)
                yield pb2.HelloReply(message=f"Hello {request.name}", payload=request.payload)

    return Greeter()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--gzip", action="store_true", help="gzip-compress responses")
    parser.add_argument(
        "--eager-headers",
        action="store_true",
        help="send response headers as soon as a call starts, before any message",
    )
    parser.add_argument("--workers", type=int, default=32)
    args = parser.parse_args()

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    pb2, pb2_grpc = load_stubs()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max(args.workers, 16)),
        compression=grpc.Compression.Gzip if args.gzip else None,
        options=[
            ("grpc.max_receive_message_length", 16 * 1024 * 1024),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ],
    )
    servicer = make_servicer(pb2, pb2_grpc, args.eager_headers)
    pb2_grpc.add_GreeterServicer_to_server(servicer, server)
    try:
        port = server.add_insecure_port(f"{args.host}:{args.port}")
    except RuntimeError as e:  # newer grpcio raises instead of returning 0
        port, reason = 0, e
    else:
        reason = "port 0 returned"
    if port == 0:
        print(f"greeter_server.py: could not bind {args.host}:{args.port}: {reason}", file=sys.stderr, flush=True)
        return 1
    server.start()
    print(f"listening on {args.host}:{port}", flush=True)
    while not stop.wait(0.2):
        pass
    server.stop(grace=1.0).wait(5.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
