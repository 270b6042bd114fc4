"""Local denial of service: a process without the secret holds 1,100 half-open connections (a request head that never
ends) against `./pipedeck serve` started with a soft open-file limit of 1024, re-opening each one the server closes.
Meanwhile the user's client makes requests, each on a new connection. Target: at least 99 % answered, p99 under
500 ms (first scenario: hard limit as the system has it, so the server raises its soft limit). The second scenario,
beyond the target, keeps the hard limit at 1024 too: only the cap on connections that have not shown the secret
protects the user, and the attacker's re-connect loop turns into a CPU contest on a shared machine. Baseline: the
same client with no attack, in the same run. The exit status is the target's.

    .venv/bin/python bench/bench_connections.py [--requests 1000] [--hold 1100]
Loopback only; every loop is bounded (requests, seconds)."""
import argparse
import resource
import selectors
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from common import fmt, summary
from tests.reliability_support import WrappedServer
from tests.support import require


class HalfOpen:
    """`count` connections that each send the start of a request and never finish it; closed ones are re-opened."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.stop = threading.Event()
        self.opened = self.reopened = self.refused = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect(self, sel) -> None:
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect_ex(("127.0.0.1", self.port))
            sel.register(s, selectors.EVENT_READ)
            time.sleep(0)
            s.send(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nX-Slow: ".encode())
            self.opened += 1
        except OSError:
            self.refused += 1

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        for _ in range(self.count):
            self.connect(sel)
        deadline = time.monotonic() + 600  # bounded even if nobody calls stop
        while not self.stop.is_set() and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:  # the server closed it: open another, as a determined attacker would
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    self.connect(sel)
                    self.reopened += 1
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()

    def __enter__(self):
        self.thread.start()
        time.sleep(2)  # all connections opened and waiting before the user's client starts
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


def user_requests(server, n: int) -> tuple[list[float], int]:
    """The user's client: `n` page loads, each on a fresh connection (the hard case); latencies and failures."""
    latencies, failed = [], 0
    with httpx.Client(base_url=server.url, timeout=5, follow_redirects=True,
                      limits=httpx.Limits(max_keepalive_connections=0)) as c:
        c.get(server.ready_url)
        for _ in range(n):
            started = time.perf_counter()
            try:
                ok = c.get("/healthz").status_code == 200 and c.get("/hello").status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failed += not ok
    return latencies, failed


def scenario(label: str, nofile: str, args, target: bool) -> bool:
    prlimit = require("prlimit", "to start the server with a soft open-file limit of 1024 (util-linux)")
    base = Path(tempfile.mkdtemp(prefix="bench-conn-"))
    server = WrappedServer(base / "data", base / "downloads", prefix=[prlimit, f"--nofile={nofile}"]).start()
    try:
        user_requests(server, 20)  # warm-up
        baseline, base_failed = user_requests(server, args.requests // 2)
        with HalfOpen(server.port, args.hold) as attack:
            attacked, failed = user_requests(server, args.requests)
        answered = 1 - failed / len(attacked)
        b, a = summary(baseline), summary(attacked)
        ok = answered >= 0.99 and a["p99_ms"] < 500
        print(f"\n{label} (server started with --nofile={nofile})")
        print(f"  baseline, no attack : {fmt(b)}   failed {base_failed}")
        print(f"  {args.hold} half-open   : {fmt(a)}   answered {answered:.1%}")
        print(f"  attacker: opened {attack.opened}, closed by server and re-opened {attack.reopened}, "
              f"refused {attack.refused}")
        verdict = ("MET" if ok else "MISSED") if target else ("within" if ok else "outside") + " it (no target here)"
        print(f"  p99 ratio attacked/baseline {a['p99_ms'] / b['p99_ms']:.2f}   target (>=99 %, p99 < 500 ms): {verdict}")
        return ok
    finally:
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--hold", type=int, default=1100)
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the attacker itself needs 1,100 sockets
    met = scenario("hard limit unchanged", f"1024:{hard}", args, target=True)
    scenario("hard limit 1024 too", "1024:1024", args, target=False)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
