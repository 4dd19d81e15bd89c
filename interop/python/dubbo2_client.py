#!/usr/bin/env python3
"""Dubbo2 consumer checks with PyPI's python3-dubbo 0.0.8 (import name `dubbo`), against a
provider of org.apache.dubbo.sample.DemoService 1.0.0 (examples/src/demo_service.rs).

Prints one line per check ("ok   NAME" or "FAIL NAME: reason") and exits non-zero if any
check fails. Direct connection, no ZooKeeper.

python3-dubbo sends the protocol version "2.4.10" (a jar version), so a Java-faithful
provider answers with result flags 0/1/2 only, the only ones this client decodes.

Usage: dubbo2_client.py --target HOST:PORT
"""
import argparse
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

from dubbo.client import DubboClient  # noqa: E402
from dubbo.common.exceptions import DubboResponseException  # noqa: E402

SERVICE = "org.apache.dubbo.sample.DemoService"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    args = parser.parse_args()

    client = DubboClient(SERVICE, version="1.0.0", host=args.target)
    failures = 0

    def check(name, fn):
        nonlocal failures
        try:
            problem = fn()
        except Exception as e:  # noqa: BLE001 - report any failure as a failed check
            problem = "%s: %s" % (type(e).__name__, str(e).strip())
        if problem:
            failures += 1
            print("FAIL %s: %s" % (name, problem), flush=True)
        else:
            print("ok   %s" % name, flush=True)

    def say_hello():
        got = client.call("sayHello", "world", timeout=5)
        return None if got == "Hello world" else "got %r" % (got,)

    def say_hello_bmp():
        got = client.call("sayHello", "\u4e2d\u6587", timeout=5)
        return None if got == "Hello \u4e2d\u6587" else "got %r" % (got,)

    def echo_int():
        got = client.call("echo", 300, timeout=5)
        return None if got == 300 else "got %r" % (got,)

    def fail():
        try:
            got = client.call("fail", "boom", timeout=5)
        except DubboResponseException as e:
            text = str(e)
            if "java.lang.IllegalStateException" in text and "boom" in text:
                return None
            return "exception text %r" % (text,)
        return "expected an exception, got %r" % (got,)

    def unknown_version():
        other = DubboClient(SERVICE, version="9.9.9", host=args.target)
        try:
            got = other.call("sayHello", "x", timeout=5)
        except DubboResponseException as e:
            text = str(e)
            return None if "Not found exported service" in text else "text %r" % (text,)
        return "expected an error, got %r" % (got,)

    check("sayHello", say_hello)
    check("sayHello-unicode", say_hello_bmp)
    check("echo-int", echo_int)
    check("fail-exception", fail)
    check("unknown-version", unknown_version)
    print("%d failed" % failures, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
