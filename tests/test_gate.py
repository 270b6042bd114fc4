"""The gate in front of the app (desktop/gate.py), over real HTTP: the port answers before the app exists."""
from __future__ import annotations

import contextlib
import threading
import time

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from desktop import gate
from desktop.gate import Gate
from desktop.server import free_port, listen

PAGE = {"accept": "text/html"}


@pytest.fixture
def served():
    """A Gate served by uvicorn on a socket bound first, as the launch does; yields (gate, base url, events)."""
    events: list[str] = []
    front = Gate()
    port = free_port()
    sock = listen("127.0.0.1", port)
    server = uvicorn.Server(uvicorn.Config(front, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield front, f"http://127.0.0.1:{port}", events
    server.should_exit = True
    thread.join(10)
    sock.close()


def app_with(events: list[str]) -> Starlette:
    async def home(request):
        return PlainTextResponse("home")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        events.append("started")
        yield
        events.append("stopped")

    return Starlette(routes=[Route("/", home)], lifespan=lifespan)


def test_request_sent_before_the_app_exists_is_answered_by_the_app_once_it_is_built(served):
    front, url, events = served
    answer = {}
    asking = threading.Thread(target=lambda: answer.update(r=httpx.get(url + "/", headers=PAGE, timeout=10)))
    asking.start()
    time.sleep(0.5)  # the request is waiting at the gate
    front.open(app_with(events))
    asking.join(10)
    assert answer["r"].status_code == 200 and answer["r"].text == "home"
    assert events == ["started"], "the app's own start-up ran before it served"


def test_slow_start_shows_a_refreshing_notice_and_a_failed_one_says_why(served, monkeypatch):
    monkeypatch.setattr(gate, "HOLD_SECONDS", 0.3)
    front, url, _ = served
    held = httpx.get(url + "/", headers=PAGE, timeout=10)
    assert held.status_code == 200 and "Starting Pipedeck" in held.text and "http-equiv='refresh'" in held.text
    front.fail("Pipedeck could not start: the disk is full")
    refused = httpx.get(url + "/", headers=PAGE, timeout=10)
    assert refused.status_code == 503 and "the disk is full" in refused.text
