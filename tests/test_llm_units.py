"""The LLM parts without a browser: conversation store, tools, status checks and streaming against the fake Ollama."""
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.config import Config
from server.context import Context
from server.db import open_db
from server.engine import RunStore
from server.llm import services
from server.llm.chat import ChatStore
from tests.fakes.ollama import FakeOllama


@pytest.fixture(scope="module")
def fake():
    f = FakeOllama().start()
    yield f
    f.stop()


def make_ctx(tmp_path, ollama_url: str) -> Context:
    cfg = Config(data_dir=tmp_path / "data", downloads_dir=tmp_path / "downloads", ollama_host=ollama_url)
    cfg.ensure_dirs()
    db = open_db(cfg.db_path)
    return Context(cfg=cfg, db=db, runs=RunStore(db))


def run(coro):
    """Run a coroutine on a fresh loop in its own thread: Playwright's sync API may own this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Recorder:
    """Stands in for the open panels: keeps every HTML fragment the hub would send."""

    def __init__(self):
        self.sent: list[str] = []

    async def send_text(self, html: str):
        self.sent.append(html)


def test_answers_left_streaming_by_a_dead_process_are_marked_interrupted(tmp_path):
    db = open_db(tmp_path / "chat.db")
    store = ChatStore(db)
    store.add("user", "hello")
    mid = store.add("assistant", "half an ans", "streaming").id
    again = ChatStore(db)
    assert [(m.role, m.content, m.status) for m in again.history()] == [
        ("user", "hello", "done"), ("assistant", "half an ans", "interrupted")]
    assert again.context() == [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "half an ans"}]
    again.live[mid] = ["half an ", "answer"]
    assert again.history()[-1].content == "half an answer"


def test_task_tools_add_list_and_complete_on_the_current_profile(tmp_path):
    ctx = make_ctx(tmp_path, "http://127.0.0.1:9")
    from server.apps.tasks import TaskList
    tasks = TaskList(ctx)
    tasks.profiles.insert(dict(name="Acme", menu_name="Client A", address="", code="", active=1, priority=0))
    tools = services(ctx).assistant.tools
    assert tools.run("list_tasks", {}) == "Client A has no tasks."
    assert tools.run("add_task", {"text": "Crawl the site"}) == "Added task #1: Crawl the site"
    assert tools.run("add_task", '{"text": "Export links"}') == "Added task #2: Export links"
    assert tools.run("complete_task", {"task": "#2"}) == "Marked task #2 done: Export links"
    assert tools.run("complete_task", {"task": "crawl"}) == "Marked task #1 done: Crawl the site"
    assert "(done)" in tools.run("list_tasks", {})
    assert tools.run("add_task", {"text": "  "}).startswith("Could not add task: A task needs some text")
    assert tools.run("complete_task", {"task": "nothing like it"}).startswith("Could not complete task")
    assert tools.run("delete_everything", {}).startswith("Could not delete everything")


def test_status_online_no_model_and_offline_without_waiting(tmp_path, fake):
    run(_status_online_no_model_and_offline_without_waiting(tmp_path, fake))


async def _status_online_no_model_and_offline_without_waiting(tmp_path, fake):
    ctx = make_ctx(tmp_path, fake.url)
    llm = services(ctx).llm
    status = await llm.status()
    assert status.ready and status.model == "qwen2.5:0.5b" and status.version
    llm.choose_model("llama3.2:1b")  # picked but not installed
    assert not (await llm.status()).ready
    assert "not installed" in (await llm.status()).problem
    llm.set_host("127.0.0.1:9")  # nothing listens there
    started = time.perf_counter()
    status = await llm.status()
    assert time.perf_counter() - started < 2
    assert not status.online and status.problem.startswith("Local LLM offline")
    assert status.host == "http://127.0.0.1:9"


def test_answer_streams_in_several_sends_and_a_broken_stream_is_kept_as_interrupted(tmp_path, fake):
    run(_answer_streams_in_several_sends_and_a_broken_stream_is_kept_as_interrupted(tmp_path, fake))


async def _answer_streams_in_several_sends_and_a_broken_stream_is_kept_as_interrupted(tmp_path, fake):
    fake.configure(tokens=20, delay=0.01, break_after=None)
    ctx = make_ctx(tmp_path, fake.url)
    llm = services(ctx)
    panel = Recorder()
    llm.hub.join(panel)
    await llm.assistant.user_says("hello there")
    await asyncio.gather(*llm.assistant.answers)
    appended = [h for h in panel.sent if "beforeend:#msg-2 .src" in h]
    assert len(appended) >= 3
    answer = llm.store.history()[-1]
    assert (answer.role, answer.status) == ("assistant", "done") and answer.content.endswith("tok19")

    fake.configure(break_after=8)
    try:
        await llm.assistant.user_says("again")
        await asyncio.gather(*llm.assistant.answers)
    finally:
        fake.configure(break_after=None)
    *_, cut, error = llm.store.history()
    assert cut.status == "interrupted" and cut.content == "You said: again tok0 tok1 tok2 tok3 tok4"
    assert error.role == "error" and "broke" in error.content


def test_narration_is_posted_in_order_and_never_awaited_by_the_caller(tmp_path):
    run(_narration_is_posted_in_order_and_never_awaited_by_the_caller(tmp_path))


async def _narration_is_posted_in_order_and_never_awaited_by_the_caller(tmp_path):
    ctx = make_ctx(tmp_path, "http://127.0.0.1:9")  # no LLM: narration is posted without an explanation
    llm = services(ctx)
    started = time.perf_counter()
    for i in range(20):
        ctx.narrate(f"step {i}")
    assert time.perf_counter() - started < 0.05
    await asyncio.gather(*list(ctx.background))
    assert [m.content for m in llm.store.history()] == [f"step {i}" for i in range(20)]
