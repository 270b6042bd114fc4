"""Background steps: run off the request, progress pushed over the WebSocket, the value stored through the guarded
write, and after a restart resumed or offered again."""
import asyncio
import threading

import pytest
from fasthtml.common import P

from server.engine import Background, Text, Workflow
from server.engine.registry import add_workflow
from server.security import csrf_token
from tests.engine_support import HX, client, make_app, walk

GATE = threading.Event()  # the producer finishes when the test lets it


class Slow(Workflow):
    name = "slow"
    title = "Slow"
    steps = [Text("topic", "Topic"), Background("result", "Result", producer="make", busy="Making it…")]

    async def make(self, run, progress):
        progress(P(f"working on {run['topic']}", cls="made-so-far"))
        while not GATE.is_set():  # polled, not waited on in a thread, so stopping the app cancels it at once
            await asyncio.sleep(0.02)
        return f"made from {run['topic']}"


class Resumed(Slow):
    name = "resumed"
    steps = [Text("topic", "Topic"), Background("result", "Result", producer="make", resume=True)]


def app_with_slow(base, monkeypatch):
    cfg, app = make_app(base, monkeypatch)
    for cls in (Slow, Resumed):
        add_workflow(app.state.ctx, app, cls(app.state.ctx))
    return cfg, app


def wait_for(check, what: str, timeout: float = 10):
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_progress_is_pushed_to_the_open_window_and_the_value_stored(tmp_path, monkeypatch):
    GATE.clear()
    cfg, app = app_with_slow(tmp_path, monkeypatch)
    runs = app.state.ctx.runs
    # The chat panel's socket, open in every window; the page's CSRF token rides in its URL.
    socket = cfg.base_url.replace("http", "ws", 1) + "/chat/ws?token=" + csrf_token(cfg)
    with client(cfg, app) as c, c.websocket_connect(socket, headers={"Origin": cfg.base_url}) as ws:
        r = walk(c, "slow", "one", ("topic", "tea"))
        card = c.get("/slow/result", params={"pipeline_id": "one"}, headers=HX).text
        assert "Making it…" in card and 'class="poll push-poll"' in card  # polls only while the socket is down (app.js)
        pushed = ws.receive_text()  # the producer's progress, as an out-of-band swap of the card's progress area
        assert 'id="slow-result-progress"' in pushed and "working on tea" in pushed and "hx-swap-oob" in pushed
        GATE.set()
        pushed = ws.receive_text()
        assert 'id="slow-result"' in pushed and "made from tea" in pushed and "card-locked" in pushed
        assert runs.get("slow", "one")["result"] == "made from tea"
        assert "result" not in runs.get("slow", "one")["working"]  # the marker a restart looks for is gone
        assert r.status_code == 200


def test_an_interrupted_step_offers_a_retry_after_a_restart(tmp_path, monkeypatch):
    GATE.clear()
    cfg, app = app_with_slow(tmp_path, monkeypatch)
    with client(cfg, app) as c:
        walk(c, "slow", "cut", ("topic", "tea"))
        c.get("/slow/result", params={"pipeline_id": "cut"}, headers=HX)  # the work starts; the app stops
    GATE.set()
    cfg, app = app_with_slow(tmp_path, monkeypatch)
    with client(cfg, app) as c:
        card = c.get("/slow/result", params={"pipeline_id": "cut"}, headers=HX).text
        assert "interrupted when the app stopped" in card and "Try again" in card
        c.post("/slow/result/retry", data={"pipeline_id": "cut"}, headers=HX)
        wait_for(lambda: app.state.ctx.runs.get("slow", "cut").get("result"), "the retried value")


def test_a_resumable_step_starts_again_by_itself_after_a_restart(tmp_path, monkeypatch):
    GATE.clear()
    cfg, app = app_with_slow(tmp_path, monkeypatch)
    with client(cfg, app) as c:
        walk(c, "resumed", "cut", ("topic", "tea"))
        c.get("/resumed/result", params={"pipeline_id": "cut"}, headers=HX)
    GATE.set()
    cfg, app = app_with_slow(tmp_path, monkeypatch)
    with client(cfg, app):  # nobody opens the card: start-up resumes the work
        assert wait_for(lambda: app.state.ctx.runs.get("resumed", "cut").get("result"), "the resumed value") \
            == "made from tea"


def test_a_failing_producer_shows_its_message_and_a_retry(tmp_path, monkeypatch):
    from server.engine import Invalid

    class Failing(Slow):
        name = "failing"

        async def make(self, run, progress):
            raise Invalid("The oven is cold.")

    cfg, app = make_app(tmp_path, monkeypatch)
    add_workflow(app.state.ctx, app, Failing(app.state.ctx))
    with client(cfg, app) as c:
        walk(c, "failing", "f", ("topic", "tea"))
        c.get("/failing/result", params={"pipeline_id": "f"}, headers=HX)

        def error_card():
            text = c.get("/failing/result", params={"pipeline_id": "f"}, headers=HX).text
            return text if "oven" in text else None

        card = wait_for(error_card, "the error card")
        assert "The oven is cold." in card and "/failing/result/retry" in card


@pytest.fixture(autouse=True)
def release_gate():
    yield
    GATE.set()
