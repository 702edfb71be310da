"""A real SMTP server for the tests: accepts every message and stores each one as
an .eml file (the raw message as received, headers and body) in a directory.

Usage: python smtp_sink.py --port 2525 --dir .data/mail [--host 127.0.0.1]

Runs until SIGINT/SIGTERM. Files are named <nanoseconds>-<n>.eml and written
atomically (a temporary name, then a rename), so a reader never sees half a
message. Started by scripts/test.sh (see tg_start_smtp_sink in scripts/lib/common.sh)
from a virtualenv with aiosmtpd.
"""

import argparse
import itertools
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class SaveToDirectory:
    """aiosmtpd handler: one .eml file per accepted message."""

    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{next(self.counter)}.eml"
        tmp = os.path.join(self.directory, f".{name}.tmp")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        with open(tmp, "wb") as f:
            f.write(content)
        os.replace(tmp, os.path.join(self.directory, name))
        print(f"smtp_sink: {', '.join(envelope.rcpt_tos)} -> {name}", flush=True)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(SaveToDirectory(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"smtp_sink: listening on {args.host}:{args.port}, storing in {args.dir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
