"""Loads Python stubs for the gRPC interop-test protos (proto/grpc/testing/*.proto).

The stubs are generated with grpc_tools.protoc once per (proto contents, grpcio-tools
version) into a cache directory under the venv (or the system temp dir outside a venv): a
private directory is written and renamed into place, so concurrent runs are safe.

The protos live in the package `grpc.testing`, whose generated modules import each other as
`grpc.testing.*_pb2` -- inside grpcio's own `grpc` package namespace. The generated `grpc/`
directory is therefore appended to `grpc.__path__`, which makes `grpc.testing` importable
without touching the protos or grpcio.
"""

import collections
import hashlib
import importlib
import os
import shutil
import sys
import tempfile
import zlib
from importlib import metadata

import grpc

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO_DIR = os.path.join(REPO_ROOT, "proto")
PROTO_FILES = [
    "grpc/testing/empty.proto",
    "grpc/testing/messages.proto",
    "grpc/testing/test.proto",
]


def _generate(out_dir, cache_root):
    import grpc_tools
    from grpc_tools import protoc

    os.makedirs(cache_root, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".tmp-", dir=cache_root)
    try:
        well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        rc = protoc.main(
            ["grpc_tools.protoc", f"-I{PROTO_DIR}", f"-I{well_known}",
             f"--python_out={work}", f"--grpc_python_out={work}"]
            + [os.path.join(PROTO_DIR, p) for p in PROTO_FILES]
        )
        if rc != 0:
            raise RuntimeError(f"protoc failed on {PROTO_FILES} (exit {rc})")
        try:
            os.rename(work, out_dir)
        except OSError:
            if not os.path.isdir(out_dir):  # not just another process being first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def load():
    """Returns (empty_pb2, messages_pb2, test_pb2, test_pb2_grpc)."""
    digest = hashlib.sha256()
    for name in PROTO_FILES:
        with open(os.path.join(PROTO_DIR, name), "rb") as f:
            digest.update(f.read())
    digest.update(metadata.version("grpcio-tools").encode())
    key = digest.hexdigest()[:16]
    in_venv = sys.prefix != sys.base_prefix
    cache_root = os.path.join(
        sys.prefix if in_venv else tempfile.gettempdir(), "grpc-testing-stubs"
    )
    out_dir = os.path.join(cache_root, key)
    if not os.path.isfile(os.path.join(out_dir, "grpc", "testing", "test_pb2_grpc.py")):
        _generate(out_dir, cache_root)
    generated = os.path.join(out_dir, "grpc")
    if generated not in grpc.__path__:
        grpc.__path__.append(generated)
    return tuple(
        importlib.import_module(f"grpc.testing.{name}")
        for name in ("empty_pb2", "messages_pb2", "test_pb2", "test_pb2_grpc")
    )


# Message compression as the interop peers see it. Both peers create their server / channel
# with the option below, so grpcio hands over every message exactly as it was framed: gzip
# data when its frame was compressed, protobuf otherwise. A protobuf message never starts with
# the gzip magic (0x1f would be a field tag with the invalid wire type 7), so the first two
# bytes tell which it was -- the per-message compressed flag that grpcio's Python API does
# not expose otherwise.
NO_DECOMPRESSION = ("grpc.per_message_decompression", 0)
GZIP_MAGIC = b"\x1f\x8b"
MAX_MESSAGE = 8 * 1024 * 1024

Received = collections.namedtuple("Received", ["message", "compressed"])


def gunzip(data, limit=MAX_MESSAGE):
    """Decompresses gzip data, refusing more than `limit` bytes of output."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(data, limit)
    if d.unconsumed_tail or not d.eof:
        raise ValueError("gzip message is truncated or larger than the limit")
    return out


def decoder(message_class):
    """A grpcio deserializer returning Received(message, compressed)."""

    def decode(data):
        compressed = data[:2] == GZIP_MAGIC
        if compressed:
            data = gunzip(data)
        return Received(message_class.FromString(data), compressed)

    return decode


def encoder(message_class):
    """A grpcio serializer for `message_class`."""
    return message_class.SerializeToString
