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
from tests.llm_support import fake  # noqa: F401 (the module's fake Ollama)


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


def test_narration_while_ollama_is_known_off_is_dropped_without_a_turn_and_rechecked_once_stale(tmp_path):
    run(_narration_while_ollama_is_known_off(tmp_path))


async def _narration_while_ollama_is_known_off(tmp_path):
    ctx = make_ctx(tmp_path, "http://127.0.0.1:9")
    llm = services(ctx)
    assert llm.llm.reused_status() is None  # never asked: the turn's own check runs
    assert not (await llm.llm.status()).ready
    assert llm.llm.reused_status() is not None
    taken = []
    assert await llm.assistant.explain(lambda: taken.append("asked"))
    assert taken == ["asked"] and llm.assistant.narrating is None  # no reply task was started
    llm.llm._checked -= 10  # stale: the next narration checks Ollama again, through the turn
    assert llm.llm.reused_status() is None


# --- Ollama as its public references describe it (ollama/ollama, ollama/ollama-python) ---

# The examples in ollama-python's `_parse_host` docstring (ollama/_client.py), which the app must read alike.
OLLAMA_PYTHON_HOSTS = [
    (None, "http://127.0.0.1:11434"), ("", "http://127.0.0.1:11434"), ("1.2.3.4", "http://1.2.3.4:11434"),
    (":56789", "http://127.0.0.1:56789"), ("1.2.3.4:56789", "http://1.2.3.4:56789"),
    ("http://1.2.3.4", "http://1.2.3.4:80"), ("https://1.2.3.4", "https://1.2.3.4:443"),
    ("https://1.2.3.4:56789", "https://1.2.3.4:56789"), ("example.com", "http://example.com:11434"),
    ("example.com:56789", "http://example.com:56789"), ("http://example.com", "http://example.com:80"),
    ("example.com/", "http://example.com:11434"), ("example.com:56789/path/", "http://example.com:56789/path"),
    ("[0001:002:003:0004::1]", "http://[0001:002:003:0004::1]:11434"),
    ("[0001:002:003:0004::1]:56789/", "http://[0001:002:003:0004::1]:56789"),
    ("https://[0001:002:003:0004::1]", "https://[0001:002:003:0004::1]:443"),
]


@pytest.mark.parametrize("given,expected", OLLAMA_PYTHON_HOSTS)
def test_ollama_address_is_read_as_ollama_python_reads_it(given, expected):
    from server.llm.host import parse_host
    assert parse_host(given) == expected


@pytest.mark.parametrize("given,reason", [("http://127.0.0.1:11434x", "port"), ("javascript:alert(1)", "http://"),
                                          ("ftp://example.com", "http://"), ("127.0.0.1:99999", "port"),
                                          ("http://user@evil", "address"), ("http://exa mple", "address")])
def test_unusable_ollama_addresses_are_refused_with_the_reason(given, reason):
    from server.llm.host import BadAddress, parse_host
    with pytest.raises(BadAddress, match=reason):
        parse_host(given)


def test_ollama_host_without_a_port_uses_11434_and_a_bad_saved_address_falls_back(tmp_path):
    from server.db import store_set
    ctx = make_ctx(tmp_path, "127.0.0.1")
    llm = services(ctx).llm
    assert llm.host == "http://127.0.0.1:11434"  # not port 80, as a bare "http://" + host would be
    store_set(ctx.db, "llm:host", "javascript:alert(1)")  # saved by an older version that did not check
    host, problem = llm.host_and_problem()
    assert host == "http://127.0.0.1:11434" and "javascript:alert(1)" in problem and "`" not in problem
    assert "`" not in run(llm.status()).problem


def answer_once(ctx, text: str, then=None) -> list[str]:
    """One user message answered (then `then()`, in the same loop); the HTML fragments the panels were sent."""
    async def go():
        llm = services(ctx)
        panel = Recorder()
        llm.hub.join(panel)
        await llm.assistant.user_says(text)
        await asyncio.gather(*llm.assistant.answers)
        if then:
            await then()
        return panel.sent
    return run(go())


# Every variant of model the fake serves as the real server would, and what the app must do with each.
VARIANTS = {
    "tools": dict(models=["qwen2.5:0.5b"], sends_tools=True, think=None),
    "no tools (gemma3)": dict(models=["gemma3:1b"], sends_tools=False, think=None),
    "thinking (qwen3)": dict(models=["qwen3:0.6b"], sends_tools=True, think=True),
    "untagged name": dict(models=["llama3.2"], sends_tools=True, think=None),
    "server without capabilities": dict(models=["gemma3:1b"], show_capabilities=False, sends_tools=None,
                                        think=None),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_chat_works_against_every_variant_of_the_fake(tmp_path, fake, variant):
    v = dict(VARIANTS[variant])
    sends_tools, think = v.pop("sends_tools"), v.pop("think")
    fake.reset(**v)
    ctx = make_ctx(tmp_path, fake.url)
    answer_once(ctx, "add a task: water the plants")
    history = services(ctx).store.history()
    assert [m.role for m in history if m.role != "tool"] == ["user", "assistant"], history
    assert history[-1].status == "done" and history[-1].content
    chats = [r for r in fake.requests() if r.get("messages")]
    assert chats[0].get("think") == think
    if sends_tools is not None:
        assert bool(chats[0].get("tools")) is sends_tools
    else:  # an Ollama that does not list capabilities: tried, refused with 400, asked again without tools
        assert chats[0].get("tools") and not chats[1].get("tools")


def test_a_model_without_tools_gets_none_and_the_panel_says_tools_are_off(tmp_path, fake):
    fake.reset(models=["gemma3:1b"])
    ctx = make_ctx(tmp_path, fake.url)
    status = run(services(ctx).llm.status())
    assert status.ready and not status.tools
    from server.apps.chat import status_view
    from fasthtml.common import to_xml
    assert "tools are off for this model" in to_xml(status_view(status))
    answer_once(ctx, "list my tasks")
    assert not any(r.get("tools") for r in fake.requests() if r.get("messages"))
    assert services(ctx).store.history()[-1].content == "You said: list my tasks"


def test_thinking_is_streamed_apart_kept_and_turned_off_in_settings(tmp_path, fake):
    fake.reset(models=["qwen3:0.6b"], thinking="First I count the letters.")
    ctx = make_ctx(tmp_path, fake.url)
    llm = services(ctx)
    thought = []

    async def without_thinking():
        thought.append(llm.store.history()[-1])
        llm.llm.set_show_thinking(False)
        await llm.assistant.user_says("again")
        await asyncio.gather(*llm.assistant.answers)

    sent = answer_once(ctx, "how many r in strawberry", then=without_thinking)
    assert thought[0].thinking == "First I count the letters."
    assert thought[0].content == "You said: how many r in strawberry"
    assert any('class="thinking"' in h for h in sent), "the reasoning was not streamed to the panel"
    assert fake.requests()[-1]["think"] is False
    assert services(ctx).store.history()[-1].thinking == ""


def test_pull_progress_counts_bytes_across_every_layer(tmp_path, fake):
    from server.llm.pull import Puller
    from tests.fakes.ollama import LAYERS
    fake.reset(pull_steps=4, pull_delay=0)
    ctx = make_ctx(tmp_path, fake.url)

    async def go():
        puller = Puller(services(ctx).llm, ctx.spawn)
        seen = []
        p = puller.start("llama3.2")
        while not p.finished:
            seen.append((p.completed, p.total))
            await asyncio.sleep(0)
        return p, seen

    p, seen = run(go())
    assert not p.error and p.status == "success"
    assert p.total == p.completed == sum(size for _, size in LAYERS)
    done = [c for c, _ in seen]
    assert done == sorted(done), "overall progress went backwards when the next layer started"
    assert "llama3.2:latest" in run(services(ctx).llm.status()).models


def test_an_untagged_model_name_matches_its_latest_install(tmp_path, fake):
    fake.reset(models=["llama3.2"])
    ctx = make_ctx(tmp_path, fake.url)
    llm = services(ctx).llm
    llm.choose_model("llama3.2")
    status = run(llm.status())
    assert status.models == ["llama3.2:latest"] and status.model == "llama3.2:latest" and status.ready


def test_two_quick_messages_each_get_their_own_answer_in_order(tmp_path, fake):
    fake.reset(tokens=5, delay=0.02)
    ctx = make_ctx(tmp_path, fake.url)

    async def go():
        llm = services(ctx)
        await llm.assistant.user_says("first question")
        await llm.assistant.user_says("second question")
        await asyncio.gather(*llm.assistant.answers)
        return [(m.role, m.content.split(" tok")[0]) for m in llm.store.history()]

    assert run(go()) == [("user", "first question"), ("user", "second question"),
                         ("assistant", "You said: first question"), ("assistant", "You said: second question")]
    second = [r for r in fake.requests() if r.get("messages")][-1]["messages"]
    assert [m["role"] for m in second[1:]] == ["user", "assistant", "user"]


def test_narration_never_delays_a_user_and_a_burst_gets_one_reply(tmp_path, fake):
    fake.reset(tokens=10, delay=0.05)  # each reply takes half a second
    ctx = make_ctx(tmp_path, fake.url)

    async def go():
        llm = services(ctx)
        for i in range(25):
            ctx.narrate(f"step {i}")
        await asyncio.sleep(0.1)  # the first narration reply is streaming now
        await llm.assistant.user_says("are you there?")
        while ctx.background:
            await asyncio.gather(*list(ctx.background))
        return llm.store.history()

    history = run(go())
    # The user's answer comes first: the narration reply under way stopped, and the burst is explained after.
    after = [m for m in history if m.id > next(m.id for m in history if m.role == "user")]
    assert after[0].role == "assistant" and after[0].content.startswith("You said: are you there?"), after[0]
    assert [m.content for m in history if m.role == "narration"] == [f"step {i}" for i in range(25)]
    replies = [m for m in history if m.role == "assistant"]
    assert len(replies) <= 3, f"{len(replies)} replies to one burst of narration"
    last_prompt = [r for r in fake.requests() if r.get("messages")][-1]["messages"][-1]["content"]
    assert "step 24" in last_prompt and "step 5" in last_prompt


def test_an_http_ollama_gets_a_tls_context_that_loads_no_authorities_and_accepts_no_certificate():
    import ssl

    from server.llm.client import tls

    plain, secure = tls("http://127.0.0.1:11434"), tls("HTTPS://ollama.example:443")
    assert plain.cert_store_stats()["x509_ca"] == 0  # the CA bundle is not read for an address that never uses it
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname  # so nothing could pass through it
    assert secure.cert_store_stats()["x509_ca"] > 0
    assert tls("http://localhost:11434") is plain and tls("https://other:1") is secure  # built once each
