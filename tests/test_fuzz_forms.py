"""Every route, fuzzed: random strings, huge values, missing fields, traversal tricks and wrong methods never give
a 500 or a Python traceback in the page. In-process (fast, with the real middleware and a real SQLite file) for the
bulk, and a few through the real server."""
import re
import string
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, WebSocketRoute
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Config
from server.security import TOKEN_HEADER, cookie_name, csrf_token
from tests.support import free_port

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Field names the apps' forms use; the workflows' come from their steps (STEP_FIELDS below), so fuzzing reaches
# past "field missing" into each handler's real checks.
APP_FIELDS = ("pipeline_id", "text", "menu_name", "address", "code", "priority", "active", "profile_id", "ids",
              "order", "id", "message", "model", "url", "org", "project", "token", "q", "value", "kind", "confirm")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: no fuzz request reaches a real Botify or Ollama

nasty = st.sampled_from(["", " ", "..", "../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/etc/passwd", "\x00",
                         "a\x00b", "<script>alert(1)</script>", "' OR 1=1 --", "{{7*7}}", "-1", "0", "1e309", "NaN",
                         "9" * 40, "\u202e\u0000\ud7ff", "💥" * 100, "$.name", "[]", "{}", "null", "x" * 1500])
HUGE = "x" * 200_000  # form bodies only: a URL that long is refused by the HTTP client before it is sent
value = st.one_of(st.text(max_size=60), nasty, st.just(HUGE), st.integers(-2**70, 2**70).map(str),
                  st.text(alphabet=string.printable, min_size=1000, max_size=5000))
segment = st.one_of(st.sampled_from(["1", "0", "-1", "name", "color", "finalize", "999999999999999999999"]),
                    nasty.filter(bool), st.text(min_size=1, max_size=30))


def make_app(base: Path):
    cfg = Config(data_dir=base / "data", downloads_dir=base / "downloads", port=free_port(),
                 botify_api_url=CLOSED_PORT, ollama_host=CLOSED_PORT)
    return cfg, create_app(cfg)


def kind_values(step) -> list[str]:
    """Answers near each kind's edges: its own options, out-of-range numbers, a flag's neither."""
    shown = getattr(step, "shown", {})
    edges = [str(b + d) for b in (getattr(step, "min", None), getattr(step, "max", None)) if b is not None
             for d in (-1, 0, 1)]
    return [*shown, *(label for label in shown.values()), *edges, "x" * (step.max_length + 1), "1e309", "yes", ""]


def enumerate_routes() -> list[tuple[str, tuple[str, ...]]]:
    global STEPS
    with tempfile.TemporaryDirectory(prefix="pipedeck-fuzz-routes-") as tmp:
        _, app = make_app(Path(tmp))
        app.state.ctx.db.close()
    STEPS = [(wf.name, step) for wf in app.state.ctx.workflows.values() for step in wf.steps]
    out = []
    for r in app.routes:
        if isinstance(r, (Mount, WebSocketRoute)) or not getattr(r, "methods", None):
            continue
        out.append((r.path, tuple(sorted(m for m in r.methods if m != "HEAD"))))
    return out


STEPS: list = []
ROUTES = enumerate_routes()
PATHS = sorted({p for p, _ in ROUTES})
STEP_FIELDS = tuple(sorted({step.id for _, step in STEPS}))
FIELDS = APP_FIELDS + STEP_FIELDS
form = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), value, max_size=6)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    cfg, app = make_app(tmp_path_factory.mktemp("fuzz"))
    with TestClient(app, base_url=cfg.base_url, follow_redirects=False, raise_server_exceptions=False,
                    headers={"Origin": cfg.base_url, TOKEN_HEADER: csrf_token(cfg)}) as c:
        c.cookies.set(cookie_name(cfg), cfg.secret)
        yield c


def fill(path: str, values: list[str]) -> str:
    parts = iter(values)
    return re.sub(r"\{[^}]+\}", lambda _: quote(next(parts), safe=""), path)


def check(r, what: str) -> None:
    assert r.status_code < 500, f"{what} -> {r.status_code}: {r.text[:300]}"
    assert not TRACEBACK.search(r.text), f"{what} shows a traceback: {r.text[:300]}"


FUZZ = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.mark.parametrize("path,methods", ROUTES, ids=[f"{'|'.join(m)} {p}" for p, m in ROUTES])
@FUZZ
@given(data=st.data())
def test_route_survives_random_input(client, path, methods, data):
    params = data.draw(st.lists(segment, min_size=path.count("{"), max_size=path.count("{")))
    url = fill(path, params)
    method = data.draw(st.sampled_from(methods))
    fields = data.draw(form)
    headers = {"HX-Request": "true"} if data.draw(st.booleans()) else {}
    if method == "GET":
        r = client.request(method, url, params={k: v[:1500] for k, v in fields.items()}, headers=headers)
    else:
        r = client.request(method, url, data=fields, headers=headers)
    check(r, f"{method} {url}")


@pytest.mark.parametrize("workflow,step", STEPS, ids=[f"{w}.{s.id}" for w, s in STEPS])
@FUZZ
@given(data=st.data())
def test_each_step_survives_answers_made_for_its_kind(client, workflow, step, data):
    run_id = data.draw(st.sampled_from(["fuzz-run", "", "x" * 600]))
    client.post(f"/{workflow}/init", data={"pipeline_id": run_id}, headers={"HX-Request": "true"})
    answer = data.draw(st.one_of(st.sampled_from(kind_values(step)), value))
    answers = data.draw(st.lists(st.sampled_from(kind_values(step)), max_size=3))  # a checkbox group's repeats
    body = {"pipeline_id": run_id, step.id: [answer, *answers]}
    check(client.post(f"/{workflow}/{step.id}/submit", data=body, headers={"HX-Request": "true"}),
          f"submit {workflow}.{step.id}={answer[:40]!r}")
    check(client.post(f"/{workflow}/{step.id}/revert", data={"pipeline_id": run_id, "confirm": "1"},
                      headers={"HX-Request": "true"}), f"revert {workflow}.{step.id}")


@pytest.mark.parametrize("path", PATHS)
def test_wrong_methods_are_refused_cleanly(client, path):
    allowed = {m for p, ms in ROUTES if p == path for m in ms}
    url = fill(path, ["1"] * path.count("{"))
    for method in METHODS:
        if method not in allowed:
            # Another route may own this method on the same address (GET /hello/finalize is the finalize card).
            check(client.request(method, url, data={"pipeline_id": "x"}), f"{method} {url}")


@FUZZ
@given(body=st.binary(max_size=3000), ctype=st.sampled_from([
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=zz",
    "application/json", "text/plain", "application/x-www-form-urlencoded; charset=utf-16"]),
       path=st.sampled_from([p for p, ms in ROUTES if "POST" in ms]))
def test_garbage_bodies_never_break_a_post_route(client, body, ctype, path):
    url = fill(path, ["1"] * path.count("{"))
    check(client.post(url, content=body, headers={"Content-Type": ctype}), f"POST {url} {ctype}")


def test_real_server_survives_the_nastiest_inputs(shared_server):
    c = shared_server.client()
    try:
        for payload in ("x" * 300_000, "\x00", "../../etc/passwd", "💥" * 5000, ""):
            for url, fields in (("/hello/init", {"pipeline_id": payload}),
                                ("/hello/name/submit", {"pipeline_id": payload, "name": payload}),
                                ("/tasks", {"text": payload}), ("/profiles", {"name": payload, "menu_name": payload})):
                check(c.post(url, data=fields, headers={"HX-Request": "true"}), f"POST {url}")
        check(c.request("PATCH", "/hello/init"), "PATCH /hello/init")
        check(c.get("/hello/" + quote("..%2f..%2fetc%2fpasswd", safe="")), "GET traversal")
        check(c.post("/tasks/reorder", content=b"\xff\xfe" * 1000,
                     headers={"Content-Type": "application/x-www-form-urlencoded"}), "POST reorder garbage")
        assert c.get("/healthz").text == "ok"
    finally:
        c.close()
