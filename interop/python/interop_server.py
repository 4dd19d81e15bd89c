#!/usr/bin/env python3
"""A grpcio server for the gRPC interop tests (grpc.testing.TestService).

    interop_server.py --port N [--host 127.0.0.1]
                      [--use_tls true --tls_cert_file server.pem --tls_key_file server.key]

Implements the server features of gRPC's interop-test descriptions: EmptyCall, UnaryCall,
CacheableUnaryCall, StreamingOutputCall, StreamingInputCall, FullDuplexCall, HalfDuplexCall
(UnimplementedCall is not registered, so grpcio answers UNIMPLEMENTED), Echo Status, Echo
Metadata, CompressedResponse (per message) and CompressedRequest (per message: a request
whose expect_compressed does not match how its frame arrived fails with INVALID_ARGUMENT;
see grpc_testing_stubs for how the flag is observed).

Prints "listening on HOST:PORT" once bound; stops on SIGTERM/SIGINT.
"""

import argparse
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

import grpc_testing_stubs as stubs

empty_pb2, messages_pb2, test_pb2, test_pb2_grpc = stubs.load()

SERVICE = "grpc.testing.TestService"
ECHO_INITIAL = "x-grpc-test-echo-initial"
ECHO_TRAILING = "x-grpc-test-echo-trailing-bin"
MAX_RESPONSE_SIZE = 4 * 1024 * 1024
STATUS_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def parse_bool(value):
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


class Call:
    """One call's context: echoed metadata, requested statuses, compression checks."""

    def __init__(self, context):
        self.context = context
        md = context.invocation_metadata()
        self.initial = tuple((k, v) for k, v in md if k == ECHO_INITIAL)
        trailing = tuple((k, v) for k, v in md if k == ECHO_TRAILING)
        if trailing:
            context.set_trailing_metadata(trailing)

    def begin(self):
        """Sends the echoed initial metadata (after any set_compression, which must come
        first because grpc-encoding travels in the same headers)."""
        if self.initial:
            self.context.send_initial_metadata(self.initial)

    def check_compression(self, received, message):
        if not message.HasField("expect_compressed"):
            return
        if message.expect_compressed.value and not received.compressed:
            self.context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "expected a compressed request message, got an uncompressed one",
            )
        if not message.expect_compressed.value and received.compressed:
            self.context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "expected an uncompressed request message, got a compressed one",
            )

    def echo_status(self, status):
        if status.code != 0:
            code = STATUS_BY_NUMBER.get(status.code, grpc.StatusCode.UNKNOWN)
            self.context.abort(code, status.message)

    def payload(self, size):
        if size < 0 or size > MAX_RESPONSE_SIZE:
            self.context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unsupported size {size}")
        return messages_pb2.Payload(body=b"\0" * size)

    def respond(self, params_list, compressing):
        """One StreamingOutputCallResponse per ResponseParameters; with compressing (the
        call compresses), messages that do not ask for compression are sent uncompressed."""
        for params in params_list:
            if params.interval_us > 0:
                time.sleep(params.interval_us / 1e6)
            if compressing and not (params.HasField("compressed") and params.compressed.value):
                self.context.disable_next_message_compression()
            yield messages_pb2.StreamingOutputCallResponse(payload=self.payload(params.size))


def empty_call(received, context):
    Call(context).begin()
    return empty_pb2.Empty()


def unary_call(received, context):
    call = Call(context)
    request = received.message
    call.check_compression(received, request)
    call.echo_status(request.response_status)
    if request.HasField("response_compressed"):
        context.set_compression(
            grpc.Compression.Gzip
            if request.response_compressed.value
            else grpc.Compression.NoCompression
        )
    call.begin()
    return messages_pb2.SimpleResponse(payload=call.payload(request.response_size))


def streaming_output_call(received, context):
    call = Call(context)
    request = received.message
    call.echo_status(request.response_status)
    compressing = any(
        p.HasField("compressed") and p.compressed.value for p in request.response_parameters
    )
    if compressing:
        context.set_compression(grpc.Compression.Gzip)
    call.begin()
    yield from call.respond(request.response_parameters, compressing)


def streaming_input_call(requests, context):
    call = Call(context)
    call.begin()
    total = 0
    for received in requests:
        call.check_compression(received, received.message)
        total += len(received.message.payload.body)
    return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)


def full_duplex_call(requests, context):
    call = Call(context)
    call.begin()
    for received in requests:
        call.echo_status(received.message.response_status)
        yield from call.respond(received.message.response_parameters, False)


def half_duplex_call(requests, context):
    call = Call(context)
    call.begin()
    for received in list(requests):
        call.echo_status(received.message.response_status)
        yield from call.respond(received.message.response_parameters, False)


def handlers():
    m = messages_pb2
    simple = dict(
        request_deserializer=stubs.decoder(m.SimpleRequest),
        response_serializer=stubs.encoder(m.SimpleResponse),
    )
    output = dict(
        request_deserializer=stubs.decoder(m.StreamingOutputCallRequest),
        response_serializer=stubs.encoder(m.StreamingOutputCallResponse),
    )
    methods = {
        "EmptyCall": grpc.unary_unary_rpc_method_handler(
            empty_call,
            request_deserializer=stubs.decoder(empty_pb2.Empty),
            response_serializer=stubs.encoder(empty_pb2.Empty),
        ),
        "UnaryCall": grpc.unary_unary_rpc_method_handler(unary_call, **simple),
        "CacheableUnaryCall": grpc.unary_unary_rpc_method_handler(unary_call, **simple),
        "StreamingOutputCall": grpc.unary_stream_rpc_method_handler(
            streaming_output_call, **output
        ),
        "StreamingInputCall": grpc.stream_unary_rpc_method_handler(
            streaming_input_call,
            request_deserializer=stubs.decoder(m.StreamingInputCallRequest),
            response_serializer=stubs.encoder(m.StreamingInputCallResponse),
        ),
        "FullDuplexCall": grpc.stream_stream_rpc_method_handler(full_duplex_call, **output),
        "HalfDuplexCall": grpc.stream_stream_rpc_method_handler(half_duplex_call, **output),
    }
    return grpc.method_handlers_generic_handler(SERVICE, methods)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--use_tls", type=parse_bool, default=False)
    parser.add_argument("--tls_cert_file", help="PEM certificate chain (with --use_tls true)")
    parser.add_argument("--tls_key_file", help="PEM private key (with --use_tls true)")
    args = parser.parse_args()

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16), options=[stubs.NO_DECOMPRESSION]
    )
    server.add_generic_rpc_handlers((handlers(),))
    address = f"{args.host}:{args.port}"
    if args.use_tls:
        if not (args.tls_cert_file and args.tls_key_file):
            parser.error("--use_tls true needs --tls_cert_file and --tls_key_file")
        with open(args.tls_key_file, "rb") as f:
            key = f.read()
        with open(args.tls_cert_file, "rb") as f:
            cert = f.read()
        port = server.add_secure_port(address, grpc.ssl_server_credentials([(key, cert)]))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        print(f"interop_server.py: cannot bind {address}", file=sys.stderr)
        return 1
    server.start()
    print(f"listening on {args.host}:{port}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.2):
        pass
    server.stop(grace=1).wait(timeout=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
