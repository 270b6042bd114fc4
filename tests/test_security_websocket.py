"""Cross-site WebSocket hijacking: an upgrade from a foreign Origin (or without the secret) is refused with 403
before the socket opens. Checked on an echo socket behind the real middleware and uvicorn, and on every WebSocket
route the app itself has."""
import asyncio
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server.config import Config
from server.security import SecurityMiddleware, cookie_name, csrf_token
from tests.support import free_port


async def echo(ws: WebSocket):
    await ws.accept()
    await ws.send_text(await ws.receive_text())
    await ws.close()


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory):
    cfg = Config(data_dir=tmp_path_factory.mktemp("d"), downloads_dir=tmp_path_factory.mktemp("x"), port=free_port())
    app = SecurityMiddleware(Starlette(routes=[WebSocketRoute("/ws", echo)]), cfg)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=cfg.port, log_level="error",
                                           ws="websockets-sansio", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield cfg
    server.should_exit = True
    thread.join(5)


async def attempt(cfg, origin=None, cookie=True, host=None, path="/ws", token=True):
    path += f"?token={csrf_token(cfg)}" if token else ""
    headers = {}
    if cookie:
        headers["Cookie"] = f"{cookie_name(cfg)}={cfg.secret}"
    if host:
        headers["Host"] = host
    async with connect(f"ws://127.0.0.1:{cfg.port}{path}", origin=origin, additional_headers=headers,
                       open_timeout=5) as ws:
        await ws.send("ping")
        return await ws.recv()


async def refused(*args, **kw) -> int:
    with pytest.raises(InvalidStatus) as info:
        await attempt(*args, **kw)
    return info.value.response.status_code


async def test_same_origin_with_the_secret_connects(echo_server):
    assert await attempt(echo_server, origin=echo_server.base_url) == "ping"
    assert await attempt(echo_server, origin=f"http://localhost:{echo_server.port}") == "ping"


async def test_foreign_origins_are_refused_before_the_socket_opens(echo_server):
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{echo_server.port + 1}",
                   f"https://127.0.0.1:{echo_server.port}"):
        assert await refused(echo_server, origin=origin) == 403, origin


async def test_no_token_or_a_wrong_one_is_refused(echo_server):
    assert await refused(echo_server, origin=echo_server.base_url, token=False) == 403
    assert await refused(echo_server, origin=echo_server.base_url, path="/ws?token=0123", token=False) == 403


async def test_no_secret_or_foreign_host_is_refused(echo_server):
    assert await refused(echo_server, origin=echo_server.base_url, cookie=False) == 403
    assert await refused(echo_server, origin=None, cookie=False) == 403
    assert await refused(echo_server, origin=echo_server.base_url, host=f"evil.example:{echo_server.port}") == 403


async def test_the_apps_own_websockets_refuse_foreign_origins(shared_server):
    from starlette.routing import WebSocketRoute as WSR

    from server.app import create_app

    cfg = Config(data_dir=shared_server.data_dir.parent / "probe-d", downloads_dir=shared_server.data_dir.parent / "probe-x")
    paths = [r.path for r in create_app(cfg).routes if isinstance(r, WSR) or type(r).__name__.endswith("WebSocketRoute")]
    live = Config(port=shared_server.port, data_dir=shared_server.data_dir, downloads_dir=shared_server.downloads_dir)
    live.secret = shared_server.ready_url.split("secret=")[1]
    for path in paths:
        if "{" in path:
            continue
        assert await refused(live, origin="http://evil.example", path=path) == 403, path
        assert await refused(live, origin=shared_server.url, cookie=False, path=path) == 403, path
        # The same socket opens for the app's own page: the refusals above are the Origin and secret checks.
        headers = {"Cookie": f"{cookie_name(live)}={live.secret}"}
        assert await refused(live, origin=shared_server.url, path=path, token=False) == 403, path
        async with connect(f"ws://127.0.0.1:{live.port}{path}?token={csrf_token(live)}", origin=shared_server.url, additional_headers=headers,
                           open_timeout=5):
            await asyncio.sleep(0)
