#!/usr/bin/env python3
"""A grpcio client for the gRPC interop tests (grpc.testing.TestService).

    interop_client.py --server_host H --server_port N --test_case NAME[,NAME...|all]
                      [--use_tls true --ca_file ca.pem] [--server_host_override NAME]

Runs the cases of gRPC's interop-test descriptions, printing "ok   NAME" or
"FAIL NAME: reason" per case and "N passed, M failed" at the end; exits 0 only if every case
passed. Compressed flags of responses are checked per message (see grpc_testing_stubs).

grpcio's Python API compresses a whole call or nothing; client_compressed_streaming sends
its second message uncompressed by setting gRPC's NO_COMPRESS write flag for that one
message (grpcio's internal _channel._EMPTY_FLAGS, restored right after; see
send_uncompressed), the only way to do so from Python.
"""

import argparse
import contextlib
import queue
import sys
import time
import traceback

import grpc
from grpc import _channel
from grpc._cython import cygrpc

import grpc_testing_stubs as stubs

empty_pb2, messages_pb2, test_pb2, test_pb2_grpc = stubs.load()

CASES = [
    "empty_unary",
    "large_unary",
    "client_streaming",
    "server_streaming",
    "ping_pong",
    "empty_stream",
    "timeout_on_sleeping_server",
    "cancel_after_begin",
    "cancel_after_first_response",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "custom_metadata",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_compressed_streaming",
    "server_compressed_streaming",
]
CALL_TIMEOUT = 20.0
ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
m = messages_pb2


class CaseFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CaseFailed(message)


def zeros(n):
    return m.Payload(body=b"\0" * n)


def check_payload(received, size, what="response"):
    body = received.message.payload.body
    check(len(body) == size, f"{what}: payload of {len(body)} bytes, expected {size}")
    check(body.count(0) == size, f"{what}: payload is not all zeros")


def large_request(**fields):
    return m.SimpleRequest(response_size=314159, payload=zeros(271828), **fields)


def output_request(steps, **fields):
    """steps: [(request payload size, response size)]"""
    return m.StreamingOutputCallRequest(
        response_parameters=[m.ResponseParameters(size=size) for _, size in steps],
        payload=zeros(steps[0][0]) if steps else None,
        **fields,
    )


def expect_error(fn, code, details=None):
    try:
        result = fn()
    except grpc.RpcError as e:
        check(e.code() == code, f"expected {code.name}, got {e.code().name} ({e.details()!r})")
        if details is not None:
            check(e.details() == details, f"expected details {details!r}, got {e.details()!r}")
        return
    raise CaseFailed(f"expected {code.name}, but the call succeeded with {result!r}")


class RequestQueue:
    """A request iterator fed by the test; ends when closed."""

    _END = object()

    def __init__(self, *initial):
        self._queue = queue.Queue()
        for message in initial:
            self.put(message)

    def put(self, message):
        self._queue.put(message)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._END:
            raise StopIteration
        return item


@contextlib.contextmanager
def send_uncompressed():
    """While active, messages grpcio sends from a request iterator carry the NO_COMPRESS
    write flag (grpcio reads its module constant _EMPTY_FLAGS when it sends each message)."""
    if not hasattr(_channel, "_EMPTY_FLAGS"):
        raise CaseFailed("this grpcio has no _channel._EMPTY_FLAGS; cannot send one message uncompressed")
    saved = _channel._EMPTY_FLAGS
    _channel._EMPTY_FLAGS = cygrpc.WriteFlag.no_compress
    try:
        yield
    finally:
        _channel._EMPTY_FLAGS = saved


class Client:
    def __init__(self, channel):
        self.channel = channel
        svc = "/grpc.testing.TestService/"
        self.empty_call = channel.unary_unary(
            svc + "EmptyCall",
            request_serializer=stubs.encoder(empty_pb2.Empty),
            response_deserializer=stubs.decoder(empty_pb2.Empty),
        )
        self.unary_call = channel.unary_unary(
            svc + "UnaryCall",
            request_serializer=stubs.encoder(m.SimpleRequest),
            response_deserializer=stubs.decoder(m.SimpleResponse),
        )
        self.streaming_output_call = channel.unary_stream(
            svc + "StreamingOutputCall",
            request_serializer=stubs.encoder(m.StreamingOutputCallRequest),
            response_deserializer=stubs.decoder(m.StreamingOutputCallResponse),
        )
        self.streaming_input_call = channel.stream_unary(
            svc + "StreamingInputCall",
            request_serializer=stubs.encoder(m.StreamingInputCallRequest),
            response_deserializer=stubs.decoder(m.StreamingInputCallResponse),
        )
        self.full_duplex_call = channel.stream_stream(
            svc + "FullDuplexCall",
            request_serializer=stubs.encoder(m.StreamingOutputCallRequest),
            response_deserializer=stubs.decoder(m.StreamingOutputCallResponse),
        )
        self.unimplemented_call = channel.unary_unary(
            svc + "UnimplementedCall",
            request_serializer=stubs.encoder(empty_pb2.Empty),
            response_deserializer=stubs.decoder(empty_pb2.Empty),
        )
        self.unimplemented_service_call = channel.unary_unary(
            "/grpc.testing.UnimplementedService/UnimplementedCall",
            request_serializer=stubs.encoder(empty_pb2.Empty),
            response_deserializer=stubs.decoder(empty_pb2.Empty),
        )

    # -- cases ------------------------------------------------------------------------------

    def empty_unary(self):
        received = self.empty_call(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
        check(isinstance(received.message, empty_pb2.Empty), "response is not an Empty")

    def large_unary(self):
        check_payload(self.unary_call(large_request(), timeout=CALL_TIMEOUT), 314159)

    def client_streaming(self):
        requests = [m.StreamingInputCallRequest(payload=zeros(n)) for n in (27182, 8, 1828, 45904)]
        received = self.streaming_input_call(iter(requests), timeout=CALL_TIMEOUT)
        size = received.message.aggregated_payload_size
        check(size == 74922, f"aggregated_payload_size is {size}, expected 74922")

    def server_streaming(self):
        sizes = [31415, 9, 2653, 58979]
        request = output_request([(0, s) for s in sizes])
        responses = list(self.streaming_output_call(request, timeout=CALL_TIMEOUT))
        check(len(responses) == len(sizes), f"{len(responses)} responses, expected {len(sizes)}")
        for i, (received, size) in enumerate(zip(responses, sizes)):
            check_payload(received, size, f"response {i}")

    def ping_pong(self):
        requests = RequestQueue()
        call = self.full_duplex_call(requests, timeout=CALL_TIMEOUT)
        try:
            for i, step in enumerate([(27182, 31415), (8, 9), (1828, 2653), (45904, 58979)]):
                requests.put(output_request([step]))
                received = next(call, None)
                check(received is not None, f"the stream ended after {i} responses")
                check_payload(received, step[1], f"response {i}")
            requests.close()
            check(next(call, None) is None, "more than 4 responses")
            check(call.code() == grpc.StatusCode.OK, f"call ended with {call.code()}")
        finally:
            requests.close()

    def empty_stream(self):
        call = self.full_duplex_call(iter([]), timeout=CALL_TIMEOUT)
        responses = list(call)
        check(not responses, f"{len(responses)} responses on an empty stream")
        check(call.code() == grpc.StatusCode.OK, f"call ended with {call.code()}")

    def timeout_on_sleeping_server(self):
        requests = RequestQueue(m.StreamingOutputCallRequest(payload=zeros(27182)))
        try:
            call = self.full_duplex_call(requests, timeout=0.001)
            expect_error(lambda: list(call), grpc.StatusCode.DEADLINE_EXCEEDED)
        finally:
            requests.close()

    def cancel_after_begin(self):
        requests = RequestQueue()
        try:
            future = self.streaming_input_call.future(requests, timeout=CALL_TIMEOUT)
            time.sleep(0.05)
            check(future.cancel(), f"the call ended before it was cancelled: {future.code()}")
            check(future.code() == grpc.StatusCode.CANCELLED, f"call ended with {future.code()}")
        finally:
            requests.close()
        self.empty_call(empty_pb2.Empty(), timeout=CALL_TIMEOUT)

    def cancel_after_first_response(self):
        requests = RequestQueue(output_request([(27182, 31415)]))
        try:
            call = self.full_duplex_call(requests, timeout=CALL_TIMEOUT)
            received = next(call, None)
            check(received is not None, "the stream ended without a response")
            check_payload(received, 31415)
            call.cancel()
            check(call.code() == grpc.StatusCode.CANCELLED, f"call ended with {call.code()}")
        finally:
            requests.close()
        self.empty_call(empty_pb2.Empty(), timeout=CALL_TIMEOUT)

    def _echo_status(self, message, duplex=True):
        status = m.EchoStatus(code=2, message=message)
        expect_error(
            lambda: self.unary_call(m.SimpleRequest(response_status=status), timeout=CALL_TIMEOUT),
            grpc.StatusCode.UNKNOWN,
            message,
        )
        if duplex:
            request = m.StreamingOutputCallRequest(response_status=status)
            expect_error(
                lambda: list(self.full_duplex_call(iter([request]), timeout=CALL_TIMEOUT)),
                grpc.StatusCode.UNKNOWN,
                message,
            )

    def status_code_and_message(self):
        self._echo_status("test status message")

    def special_status_message(self):
        self._echo_status(SPECIAL_MESSAGE, duplex=False)

    def unimplemented_method(self):
        expect_error(
            lambda: self.unimplemented_call(empty_pb2.Empty(), timeout=CALL_TIMEOUT),
            grpc.StatusCode.UNIMPLEMENTED,
        )

    def unimplemented_service(self):
        expect_error(
            lambda: self.unimplemented_service_call(empty_pb2.Empty(), timeout=CALL_TIMEOUT),
            grpc.StatusCode.UNIMPLEMENTED,
        )

    @staticmethod
    def _check_echo(what, initial, trailing):
        check(ECHO_INITIAL in tuple(initial or ()), f"{what}: initial metadata {initial!r} lacks {ECHO_INITIAL!r}")
        check(ECHO_TRAILING in tuple(trailing or ()), f"{what}: trailing metadata {trailing!r} lacks {ECHO_TRAILING!r}")

    def custom_metadata(self):
        metadata = (ECHO_INITIAL, ECHO_TRAILING)
        received, call = self.unary_call.with_call(
            large_request(), metadata=metadata, timeout=CALL_TIMEOUT
        )
        check_payload(received, 314159)
        self._check_echo("UnaryCall", call.initial_metadata(), call.trailing_metadata())
        request = output_request([(271828, 314159)])
        call = self.full_duplex_call(iter([request]), metadata=metadata, timeout=CALL_TIMEOUT)
        responses = list(call)
        check(len(responses) == 1, f"FullDuplexCall: {len(responses)} responses, expected 1")
        check_payload(responses[0], 314159)
        self._check_echo("FullDuplexCall", call.initial_metadata(), call.trailing_metadata())

    def client_compressed_unary(self):
        def request(expect):
            return large_request(expect_compressed=m.BoolValue(value=expect))

        expect_error(
            lambda: self.unary_call(
                request(True), compression=grpc.Compression.NoCompression, timeout=CALL_TIMEOUT
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        for expect, compression in ((True, grpc.Compression.Gzip), (False, grpc.Compression.NoCompression)):
            received = self.unary_call(request(expect), compression=compression, timeout=CALL_TIMEOUT)
            check_payload(received, 314159)

    def server_compressed_unary(self):
        for compressed in (True, False):
            request = large_request(response_compressed=m.BoolValue(value=compressed))
            received = self.unary_call(request, timeout=CALL_TIMEOUT)
            check(
                received.compressed == compressed,
                f"asked for response_compressed={compressed}, the compressed flag is {received.compressed}",
            )
            check_payload(received, 314159)

    def client_compressed_streaming(self):
        def request(size, expect):
            return m.StreamingInputCallRequest(
                payload=zeros(size), expect_compressed=m.BoolValue(value=expect)
            )

        expect_error(
            lambda: self.streaming_input_call(
                iter([request(27182, True)]),
                compression=grpc.Compression.NoCompression,
                timeout=CALL_TIMEOUT,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )

        def requests():
            yield request(27182, True)
            with send_uncompressed():
                yield request(45904, False)

        received = self.streaming_input_call(
            requests(), compression=grpc.Compression.Gzip, timeout=CALL_TIMEOUT
        )
        size = received.message.aggregated_payload_size
        check(size == 73086, f"aggregated_payload_size is {size}, expected 73086")

    def server_compressed_streaming(self):
        expected = [(31415, True), (92653, False)]
        request = m.StreamingOutputCallRequest(
            response_parameters=[
                m.ResponseParameters(size=size, compressed=m.BoolValue(value=c))
                for size, c in expected
            ]
        )
        responses = list(self.streaming_output_call(request, timeout=CALL_TIMEOUT))
        check(len(responses) == 2, f"{len(responses)} responses, expected 2")
        for i, (received, (size, compressed)) in enumerate(zip(responses, expected)):
            check_payload(received, size, f"response {i}")
            check(
                received.compressed == compressed,
                f"response {i}: asked for compressed={compressed}, the compressed flag is {received.compressed}",
            )


def parse_bool(value):
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def parse_cases(value):
    if value.strip() == "all":
        return list(CASES)
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown test case(s) {unknown}; known: {', '.join(CASES)}")
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server_host", default="localhost")
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument("--test_case", type=parse_cases, required=True)
    parser.add_argument("--use_tls", type=parse_bool, default=False)
    parser.add_argument("--use_test_ca", type=parse_bool, default=False, help="accepted; use --ca_file")
    parser.add_argument("--ca_file", help="PEM CA bundle trusted with --use_tls true")
    parser.add_argument("--server_host_override", help="name checked against the server certificate")
    args = parser.parse_args()

    target = f"{args.server_host}:{args.server_port}"
    options = [stubs.NO_DECOMPRESSION]
    if args.use_tls:
        if not args.ca_file:
            parser.error("--use_tls true needs --ca_file")
        with open(args.ca_file, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        if args.server_host_override:
            options.append(("grpc.ssl_target_name_override", args.server_host_override))
        channel = grpc.secure_channel(target, credentials, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)

    client = Client(channel)
    failed = 0
    for name in args.test_case:
        started = time.monotonic()
        try:
            getattr(client, name)()
        except CaseFailed as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except grpc.RpcError as e:
            failed += 1
            print(f"FAIL {name}: {e.code().name} {e.details()!r}", flush=True)
        except Exception as e:  # a bug in the case itself still fails just that case
            failed += 1
            print(f"FAIL {name}: unexpected {e!r}", flush=True)
            traceback.print_exc(file=sys.stderr)
        else:
            print(f"ok   {name} ({time.monotonic() - started:.3f}s)", flush=True)
    channel.close()
    print(f"{len(args.test_case) - failed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
