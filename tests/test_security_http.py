"""Strangers on this machine cannot drive the server: Host, Origin and launch-secret checks over real HTTP."""
import json
import sqlite3
import subprocess
import sys
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest

from server.security import TOKEN_HEADER
from tests.support import ROOT, ServerProcess, free_port, page_token

HX = {"HX-Request": "true"}
EVIL = "http://evil.example"


def runs(server):
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        return {r[0] for r in db.execute("SELECT id FROM pipeline")}


def secret_of(server) -> str:
    return parse_qs(urlparse(server.ready_url).query)["secret"][0]


@pytest.fixture
def anon(shared_server):
    """A client that never opened the bootstrap URL: a web page or program elsewhere on the machine."""
    with httpx.Client(base_url=shared_server.url, timeout=10) as c:
        yield c


@pytest.fixture
def http(shared_server):
    c = shared_server.client()
    yield c
    c.close()


def test_ready_url_carries_the_secret_and_sets_a_strict_httponly_cookie(shared_server):
    assert urlparse(shared_server.ready_url).path == "/auth" and len(secret_of(shared_server)) >= 32
    r = httpx.get(shared_server.ready_url)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert f"pipedeck_secret_{shared_server.port}=" in cookie
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert r.headers["referrer-policy"] == "no-referrer"


def test_the_secret_can_land_on_a_page_of_this_server_only(shared_server):
    for target, landing in (("/graph/acme/shop/20240301", "/graph/acme/shop/20240301"), ("//evil.example/x", "/"),
                            ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("graph", "/")):
        r = httpx.get(shared_server.ready_url + "&next=" + quote(target, safe=""))
        assert r.status_code == 303 and r.headers["location"] == landing, (target, r.text)


def test_without_the_secret_every_page_is_refused_plainly(anon):
    for path in ("/", "/hello", "/tasks", "/hello/name?pipeline_id=x"):
        r = anon.get(path)
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("text/plain") and "secret" in r.text and "<" not in r.text


def test_health_and_static_assets_need_no_secret(anon):
    assert anon.get("/healthz").text == "ok"
    assert anon.get("/static/app.css").status_code == 200


def test_a_wrong_or_missing_secret_is_refused_and_sets_no_cookie(anon, shared_server):
    for query in ("?secret=nope", "", "?secret=" + secret_of(shared_server)[:-1]):
        r = anon.get("/auth" + query)
        assert r.status_code == 403 and "set-cookie" not in r.headers
    assert anon.get("/").status_code == 403


def test_a_foreign_host_is_refused_even_with_the_secret(http, shared_server):
    assert http.get("/").status_code == 200
    for host in ("evil.example", f"evil.example:{shared_server.port}", f"127.0.0.1:{shared_server.port + 1}",
                 f"localhost.evil.example:{shared_server.port}", ""):
        r = http.get("/", headers={"Host": host})
        assert r.status_code == 403 and "Host" in r.text, host
    assert http.get("/healthz", headers={"Host": "evil.example"}).status_code == 403


def test_localhost_names_are_the_same_server(shared_server):
    with httpx.Client(base_url=f"http://localhost:{shared_server.port}", timeout=10,
                      headers={"Origin": f"http://localhost:{shared_server.port}"}) as c:
        c.get(f"http://localhost:{shared_server.port}/auth?secret={secret_of(shared_server)}")
        assert c.get("/").status_code == 200
    c = shared_server.client()
    assert c.get("/", headers={"Host": f"[::1]:{shared_server.port}"}).status_code == 200
    c.close()


def test_a_foreign_origin_cannot_change_anything(http, shared_server):
    before = runs(shared_server)
    for origin in (EVIL, "null", f"http://127.0.0.1:{shared_server.port + 1}", f"https://127.0.0.1:{shared_server.port}",
                   f"http://127.0.0.1:{shared_server.port}.evil.example"):
        r = http.post("/hello/init", data={"pipeline_id": "csrf"}, headers={**HX, "Origin": origin})
        assert r.status_code == 403 and "Origin" in r.text, origin
        assert http.delete("/tasks/1", headers={"Origin": origin}).status_code == 403
        assert http.put("/tasks/1", data={"text": "x"}, headers={"Origin": origin}).status_code == 403
    assert runs(shared_server) == before


def test_missing_origin_is_refused_without_the_secret_and_allowed_with_it(http, anon, shared_server):
    r = anon.post("/hello/init", data={"pipeline_id": "no-origin"})
    assert r.status_code == 403 and "no-origin" not in runs(shared_server)
    del http.headers["Origin"]
    r = http.post("/hello/init", data={"pipeline_id": "no-origin"}, headers=HX)
    assert r.status_code == 200 and "no-origin" in runs(shared_server)


def test_same_origin_post_works(http, shared_server):
    r = http.post("/hello/init", data={"pipeline_id": "same-origin"}, headers=HX)
    assert r.status_code == 200 and "same-origin" in runs(shared_server)


def test_duplicate_host_headers_fail_closed(http, shared_server):
    raw = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{shared_server.port}\r\nHost: evil.example\r\n"
           f"Cookie: pipedeck_secret_{shared_server.port}={secret_of(shared_server)}\r\nConnection: close\r\n\r\n")
    import socket

    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=5) as s:
        s.sendall(raw.encode())
        reply = s.recv(4096).decode(errors="replace")
    assert reply.split()[1] in ("400", "403")


def test_another_instance_cookie_does_not_open_this_one(shared_server, dirs):
    other = ServerProcess(*dirs).start()
    try:
        c = other.client()
        assert c.get("/").status_code == 200
        # Same host, other port: the browser sends that instance's cookie here too; it is not this launch's secret.
        assert c.get(shared_server.url + "/").status_code == 403
        c.close()
    finally:
        other.stop()


def cli(*args, timeout=20):
    return subprocess.run([sys.executable, "-m", "desktop", "serve", "--port", str(free_port()), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_listening_beyond_loopback_needs_lan(tmp_path):
    r = cli("--host", "0.0.0.0", "--data-dir", str(tmp_path / "d"), "--downloads-dir", str(tmp_path / "x"))
    assert r.returncode != 0 and "--lan" in r.stderr and "Pipedeck ready" not in r.stdout
    r = cli("--host", "0.0.0.0", "--lan", "--no-auth", "--data-dir", str(tmp_path / "d"))
    assert r.returncode != 0 and "--no-auth" in r.stderr


def test_no_auth_warns_loudly_and_still_checks_host_and_origin(dirs):
    server = ServerProcess(*dirs, args=("--no-auth",)).start()
    try:
        out = "".join(server.output)
        assert "FOR TESTS ONLY" in out and "secret=" not in server.ready_url
        with httpx.Client(base_url=server.url, timeout=10) as c:
            assert c.get("/").status_code == 200
            c.headers[TOKEN_HEADER] = page_token(c.get("/").text)
            assert c.post("/hello/init", data={"pipeline_id": "x"}).status_code == 403
            assert c.post("/hello/init", data={"pipeline_id": "x"}, headers={"Origin": EVIL}).status_code == 403
            assert c.get("/", headers={"Host": "evil.example"}).status_code == 403
            assert c.post("/hello/init", data={"pipeline_id": "x"}, headers={"Origin": server.url}).status_code in (200, 303)
    finally:
        server.stop()


def test_lan_mode_answers_to_the_machine_name_and_requires_the_secret(dirs):
    server = ServerProcess(*dirs, args=("--host", "0.0.0.0", "--lan", "--lan-name", "pipedeck.lan")).start()
    try:
        host = f"pipedeck.lan:{server.port}"
        with httpx.Client(base_url=server.url, timeout=10) as c:
            assert c.get("/", headers={"Host": host}).status_code == 403  # no secret
            c.get(server.ready_url)
            c.headers[TOKEN_HEADER] = page_token(c.get("/", headers={"Host": host}).text)
            assert c.get("/", headers={"Host": host}).status_code == 200
            assert c.get("/", headers={"Host": f"evil.example:{server.port}"}).status_code == 403
            r = c.post("/hello/init", data={"pipeline_id": "lan"}, headers={"Host": host, "Origin": f"http://{host}"})
            assert r.status_code in (200, 303)
    finally:
        server.stop()


def test_folders_database_and_keys_are_owner_only(http, shared_server):
    http.post("/hello/init", data={"pipeline_id": "modes"}, headers=HX)  # a write, so the WAL exists
    data = shared_server.data_dir
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    assert oct(shared_server.downloads_dir.stat().st_mode & 0o777) == "0o700"
    files = [data / "pipedeck.db", data / ".sesskey"] + [p for p in data.glob("pipedeck.db-*")]
    assert any(p.name.endswith("-wal") for p in files)
    for p in files:
        assert oct(p.stat().st_mode & 0o777) == "0o600", p


def test_the_secret_is_not_logged_beyond_the_ready_line(shared_server, anon):
    anon.get("/auth?secret=" + secret_of(shared_server) + "x")
    log = json.dumps(shared_server.output)
    assert log.count(secret_of(shared_server)) == 1
