"""Connections from strangers cannot crowd out the user: the open-file limit is raised at start, and connections that
have not shown the secret are capped (the oldest closed first). The timing target is in bench/bench_connections.py."""
import resource
import socket
import time

import pytest

from server.security import CONNECTIONS
from tests.reliability_support import WrappedServer
from tests.support import require


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """The server started with the common soft open-file limit of 1024."""
    base = tmp_path_factory.mktemp("conn")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    prlimit = require("prlimit", "to start the server with a low open-file limit (util-linux)")
    server = WrappedServer(base / "data", base / "downloads", prefix=[prlimit, f"--nofile=1024:{hard}"]).start()
    yield server, hard
    server.stop()


def test_the_soft_open_file_limit_is_raised_to_the_hard_one(limited):
    server, hard = limited
    limits = open(f"/proc/{server.proc.pid}/limits").read()
    [line] = [line for line in limits.splitlines() if line.startswith("Max open files")]
    assert line.split()[3:5] == [str(hard), str(hard)], line


def test_strangers_over_the_cap_are_closed_oldest_first_and_the_user_still_gets_in(limited):
    server, _ = limited
    strangers = []
    for _ in range(CONNECTIONS.cap + 40):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Slow: ".encode())
        strangers.append(s)
    time.sleep(0.5)
    http = server.client()
    assert http.get("/hello").status_code == 200
    closed = []
    for s in strangers:  # at once, well within the header timeout (which would close them all)
        s.setblocking(False)
        try:
            closed.append(s.recv(1) == b"")
        except BlockingIOError:
            closed.append(False)
        except ConnectionResetError:
            closed.append(True)
        s.close()
    assert sum(closed[:40]) >= 40 and not any(closed[-40:]), "the oldest strangers go first, the newest stay"
