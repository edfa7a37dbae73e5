#!/usr/bin/env python3
"""A pynsq Reader that FINs N messages, then exits.

usage: pynsq_reader.py NSQD_TCP_ADDRESS TOPIC CHANNEL COUNT [--print] [--max-in-flight N] [--timeout S]
With --print each body is written to stdout on its own line (interop tests); otherwise one
line `pynsq-drain: N msgs in S s = R msgs/s` (benchmark). Exits 2 if COUNT is not reached in time.
"""
import argparse
import sys
import time

import nsq
import tornado.ioloop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("topic")
    parser.add_argument("channel")
    parser.add_argument("count", type=int)
    parser.add_argument("--print", action="store_true")
    parser.add_argument("--max-in-flight", type=int, default=2500)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    loop = tornado.ioloop.IOLoop.current()
    state = {"count": 0, "done": None, "code": 0}
    start = time.monotonic()

    def finish(code):
        state["code"] = code
        loop.stop()

    def handler(message):
        state["count"] += 1
        if args.print:
            sys.stdout.write(message.body.decode("utf-8") + "\n")
        if state["count"] >= args.count and state["done"] is None:
            state["done"] = time.monotonic()
            # Give the last FINs a moment to be written before stopping the loop.
            loop.call_later(0.3, finish, 0)
        return True

    nsq.Reader(
        topic=args.topic, channel=args.channel, message_handler=handler,
        nsqd_tcp_addresses=[args.address], max_in_flight=args.max_in_flight,
    )
    loop.call_later(args.timeout, finish, 2)
    loop.start()
    sys.stdout.flush()
    if state["done"] is None:
        sys.stderr.write("pynsq_reader: only %d of %d messages arrived\n" % (state["count"], args.count))
        sys.exit(2)
    if not args.print:
        elapsed = state["done"] - start
        print("pynsq-drain: %d msgs in %.3f s = %d msgs/s" % (state["count"], elapsed, state["count"] / elapsed))
    sys.exit(state["code"])


if __name__ == "__main__":
    main()
