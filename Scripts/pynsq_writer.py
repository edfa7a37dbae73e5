#!/usr/bin/env python3
"""A pynsq Writer that publishes BODY-0 … BODY-(N-1): the first half with PUB, the rest with MPUB.

usage: pynsq_writer.py NSQD_TCP_ADDRESS TOPIC COUNT PREFIX [--timeout S]
Exits 0 once every publish was acknowledged, 2 on error or timeout.
"""
import argparse
import sys

import nsq
import tornado.ioloop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("topic")
    parser.add_argument("count", type=int)
    parser.add_argument("prefix")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    loop = tornado.ioloop.IOLoop.current()
    writer = nsq.Writer([args.address])
    bodies = [("%s-%d" % (args.prefix, i)).encode("utf-8") for i in range(args.count)]
    half = args.count // 2
    pending = {"acks": 0, "expected": half + (1 if args.count > half else 0), "code": 0}

    def stop(code):
        pending["code"] = code
        loop.stop()

    def acked(conn, data):
        if isinstance(data, nsq.Error):
            sys.stderr.write("pynsq_writer: %s\n" % data)
            stop(2)
            return
        pending["acks"] += 1
        if pending["acks"] == pending["expected"]:
            stop(0)

    def publish_when_connected():
        if not writer.conns:
            loop.call_later(0.05, publish_when_connected)
            return
        for body in bodies[:half]:
            writer.pub(args.topic, body, callback=acked)
        if args.count > half:
            writer.mpub(args.topic, bodies[half:], callback=acked)

    loop.call_later(0.05, publish_when_connected)
    loop.call_later(args.timeout, stop, 2)
    loop.start()
    sys.exit(pending["code"])


if __name__ == "__main__":
    main()
