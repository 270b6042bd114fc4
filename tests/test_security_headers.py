"""Every answer carries the policy headers; every state-changing request carries the page's token; bodies are
counted as they arrive, chunked or not."""
import httpx
import psutil
import pytest

from server.security import TOKEN_HEADER
from tests.graph_support import write_site_graph
from tests.support import page_token

HX = {"HX-Request": "true"}
POLICY = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
          "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'")


@pytest.fixture
def http(shared_server):
    c = shared_server.client()
    yield c
    c.close()


def assert_policy(r: httpx.Response, port: int) -> None:
    csp = r.headers.get("content-security-policy", "")
    assert all(p in csp for p in POLICY), (r.url, csp)
    assert f"connect-src 'self' ws://127.0.0.1:{port}" in csp
    assert "unsafe" not in csp, "no inline script or style is allowed by name"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_every_kind_of_answer_carries_the_policy_headers(http, shared_server):
    pages = ["/", "/hello", "/tasks", "/profiles", "/settings", "/downloads", "/graph", "/botify", "/healthz",
             "/static/app.js", "/static/vendor/pico.min.css", "/no/such/page", "/hello/step_01?pipeline_id=x"]
    for path in pages:
        assert_policy(http.get(path), shared_server.port)
    assert_policy(http.post("/hello/init", data={"pipeline_id": "hdr"}, headers=HX), shared_server.port)
    assert_policy(httpx.get(shared_server.url + "/"), shared_server.port)  # a refusal (no secret) too
    assert_policy(httpx.get(shared_server.ready_url), shared_server.port)  # and the bootstrap redirect


def test_only_the_graph_viewer_and_the_native_window_may_eval(http):
    # regl (inside the WebGL viewer) and pywebview's Qt bridge build functions from strings; nothing else may.
    assert "script-src 'self' 'unsafe-eval';" in http.get("/graph/acme/shop/20240101").headers["content-security-policy"]
    assert "unsafe-eval" not in http.get("/graph/acme/shop/20240101/search?q=x").headers["content-security-policy"]
    qt = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 QtWebEngine/6.8.0 Chrome/122 Safari/537.36"}
    assert "script-src 'self' 'unsafe-eval';" in http.get("/tasks", headers=qt).headers["content-security-policy"]
    assert "unsafe-eval" not in http.get("/tasks").headers["content-security-policy"]


def test_the_page_carries_no_inline_script_or_handler(http):
    for path in ("/", "/hello", "/tasks", "/settings", "/downloads"):
        html = http.get(path).text
        assert "<script>" not in html and "<style" not in html and " style=" not in html, path
        assert " onclick=" not in html and "hx-on" not in html and "javascript:" not in html, path


def test_a_state_change_without_the_token_is_refused(http, shared_server):
    token = http.headers.pop(TOKEN_HEADER)
    assert http.post("/hello/init", data={"pipeline_id": "no-token"}, headers=HX).status_code == 403
    r = http.post("/hello/init", data={"pipeline_id": "no-token"}, headers={**HX, TOKEN_HEADER: "0" * len(token)})
    assert r.status_code == 403 and "token" in r.text
    del http.headers["Origin"]  # no Origin and no token: refused even with the launch cookie
    assert http.post("/tasks", data={"text": "x"}, headers=HX).status_code == 403
    assert http.get("/tasks").status_code == 200, "reading needs no token"
    r = http.post("/hello/init", data={"pipeline_id": "with-token"}, headers={**HX, TOKEN_HEADER: token})
    assert r.status_code == 200, "the token with the cookie is enough for a client that sends no Origin"
    assert page_token(http.get("/").text) == token, "one token per launch"


def test_bodies_are_counted_as_they_arrive_chunked_or_not(http):
    def chunks(total: int, size: int = 1 << 20):
        for _ in range(total // size):
            yield b"\0" * size

    # Chunked: no Content-Length for the server to trust, the count stops the body.
    r = http.post("/hello/init", content=chunks(9 << 20), headers={**HX, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "Traceback" not in r.text
    # An honest Content-Length above the limit is refused before a byte of the body is read.
    r = http.post("/hello/init", content=b"x" * (9 << 20), headers=HX)
    assert r.status_code == 413
    assert http.get("/healthz").text == "ok"


def test_a_chunked_body_past_the_png_limit_stops_at_the_limit(http, shared_server):
    """The PNG route's 64 MB: 256 MB sent chunked (no Content-Length) is refused without being held in memory."""
    write_site_graph(shared_server.downloads_dir, pages=20, edges=40, org="big", project="body")
    server = psutil.Process(shared_server.proc.pid)
    before = server.memory_info().rss

    def png_then_zeros():
        yield b"\x89PNG\r\n\x1a\n"
        for _ in range(256):
            yield b"\0" * (1 << 20)

    try:
        r = http.post("/graph/big/body/20240101/png", content=png_then_zeros(), headers={"Content-Type": "image/png"})
        assert r.status_code == 413 and "64 MB" in r.text
    except (httpx.WriteError, httpx.RemoteProtocolError):
        pass  # the server may close the connection while the rest is still being sent: refused all the same
    assert server.memory_info().rss - before < 150 << 20
    assert not list((shared_server.downloads_dir / "link-graph" / "big" / "body").glob("*.png"))
