"""The Nix launcher's Ollama: started when none answers, left alone when one does, stopped when the app exits.

A fake `ollama` program on PATH stands in for nixpkgs' ollama: `ollama serve` answers /api/version on
OLLAMA_HOST, as the real one does, so desktop/ollama_service.py runs unchanged.
"""
from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import psutil
import pytest

from desktop import ollama_service
from server.config import Config
from tests.support import ServerProcess, free_port

FAKE_OLLAMA = textwrap.dedent("""\
    #!{python}
    # Fake `ollama serve`: answers GET /api/version on OLLAMA_HOST, records its pid, exits on SIGTERM.
    import json, os, signal, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    assert sys.argv[1:] == ["serve"], sys.argv
    host, port = os.environ["OLLAMA_HOST"].rsplit(":", 1)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({{"version": "0.0.0-fake"}}).encode()
            self.send_response(200 if self.path == "/api/version" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = HTTPServer((host, int(port)), Handler)
    open(os.environ["FAKE_OLLAMA_PIDFILE"], "w").write(str(os.getpid()))
    print("fake ollama listening on", os.environ["OLLAMA_HOST"], flush=True)
    server.serve_forever()
""")


@pytest.fixture
def fake_ollama(tmp_path, monkeypatch):
    """A PATH whose `ollama` is the fake; yields the pid file the fake writes when it runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "ollama"
    exe.write_text(FAKE_OLLAMA.format(python=sys.executable))
    exe.chmod(0o755)
    pidfile = tmp_path / "ollama.pid"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_OLLAMA_PIDFILE", str(pidfile))
    monkeypatch.setenv(ollama_service.START_ENV, "1")
    return pidfile


def config(tmp_path, url: str) -> Config:
    return Config(data_dir=tmp_path / "data", downloads_dir=tmp_path / "downloads", ollama_host=url)


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_starts_ollama_when_none_answers_and_stops_it_after(tmp_path, fake_ollama):
    url = f"http://127.0.0.1:{free_port()}"
    cfg = config(tmp_path, url)
    assert not ollama_service.answers(url)
    with ollama_service.maybe_start(cfg) as service:
        assert service is not None and service.wait_ready()
        assert ollama_service.answers(url)
        pid = int(fake_ollama.read_text())
        assert psutil.pid_exists(pid)
    assert not ollama_service.answers(url)
    assert wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    log = (tmp_path / "data" / "ollama.log").read_text()
    assert f"serve on 127.0.0.1:{url.rsplit(':', 1)[1]}" in log and "fake ollama listening" in log


def test_uses_the_ollama_already_running(tmp_path, fake_ollama):
    class Version(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"version": "0.9.0"}')

        def log_message(self, *args):
            pass

    running = ThreadingHTTPServer(("127.0.0.1", 0), Version)
    Thread(target=running.serve_forever, daemon=True).start()
    try:
        cfg = config(tmp_path, f"http://127.0.0.1:{running.server_address[1]}")
        with ollama_service.maybe_start(cfg) as service:
            assert service is None
        assert not fake_ollama.exists()
    finally:
        running.shutdown()


@pytest.mark.parametrize("case", ["not asked", "remote address", "no program"])
def test_leaves_ollama_alone_unless_the_launcher_asks_for_a_local_one(tmp_path, fake_ollama, monkeypatch, case):
    url = f"http://127.0.0.1:{free_port()}"
    if case == "not asked":
        monkeypatch.delenv(ollama_service.START_ENV)
    elif case == "remote address":
        url = "http://192.0.2.1:11434"  # TEST-NET-1: never answers, and not this machine
    else:
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with ollama_service.maybe_start(config(tmp_path, url)) as service:
        assert service is None
    assert not fake_ollama.exists()


def test_host_port_is_what_ollama_serve_reads():
    assert ollama_service.host_port("http://127.0.0.1:11434") == "127.0.0.1:11434"
    assert ollama_service.host_port("http://localhost") == "localhost:11434"
    assert ollama_service.host_port("http://[::1]:8080") == "[::1]:8080"
    assert ollama_service.is_loopback("http://[::1]:8080") and not ollama_service.is_loopback("http://10.0.0.2:1")


def test_the_app_starts_ollama_and_stops_it_on_exit(tmp_path, fake_ollama):
    """`python -m desktop serve` as the Nix wrapper runs it: ollama comes up beside the app and goes with it."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "FAKE_OLLAMA_PIDFILE": str(fake_ollama),
           ollama_service.START_ENV: "1", "OLLAMA_HOST": f"127.0.0.1:{port}"}
    app = ServerProcess(tmp_path / "data", tmp_path / "downloads", env=env).start()
    try:
        assert wait_for(lambda: ollama_service.answers(f"http://127.0.0.1:{port}"))
        pid = int(fake_ollama.read_text())
    finally:
        assert app.stop(signal.SIGTERM) == 0
    assert wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    assert not ollama_service.answers(f"http://127.0.0.1:{port}")
    assert "fake ollama listening" in (tmp_path / "data" / "ollama.log").read_text()


def test_ollama_dies_with_the_app_when_the_app_is_killed(tmp_path, fake_ollama):
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    port = free_port()
    env = {"FAKE_OLLAMA_PIDFILE": str(fake_ollama), ollama_service.START_ENV: "1", "OLLAMA_HOST": f"127.0.0.1:{port}"}
    app = ServerProcess(tmp_path / "data", tmp_path / "downloads", env=env).start()
    assert wait_for(lambda: ollama_service.answers(f"http://127.0.0.1:{port}"))
    pid = int(fake_ollama.read_text())
    app.kill()
    assert wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
