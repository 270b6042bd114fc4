"""Card latency: a step GET and a step submit against `./pipedeck serve`, versus a bare Starlette route
served by uvicorn the same way, in the same run; and the time to resume a run of 50 finished steps.

"The same way": uvicorn with the app's HTTP protocol (h11: desktop/server.py's GuardedH11Protocol is h11's; uvicorn
would otherwise pick httptools for the bare route, a faster parser the app does not use), the same event loop
(uvicorn's "auto", uvloop when installed, for both), and a client sending the same headers and cookie as the
app's, so both servers parse the same request. The two are timed in alternating blocks of ten requests."""
import argparse
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from common import ROOT, fmt, summary
from tests.support import ServerProcess, free_port

HX = {"HX-Request": "true"}

BARE_APP = textwrap.dedent("""
    import sys, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route
    async def card(request):
        return HTMLResponse('<div id="hello-name" class="step"><article>What is your name?</article></div>')
    app = Starlette(routes=[Route("/card", card, methods=["GET", "POST"])])
    print("ready", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", http="h11")
""")

FIFTY_STEPS = textwrap.dedent('''
    from server.engine import Text, Workflow
    class Long(Workflow):
        name = "long"
        title = "Fifty steps"
        steps = [Text(f"q{i:02d}", f"Question {i}") for i in range(1, 51)]
''')


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def interleaved(app, bare, n: int, block: int = 10) -> tuple[list[float], list[float]]:
    """The app's and the bare route's timings in alternating blocks: a shared machine's load drifts over the seconds
    a run takes, and two long blocks one after the other would each see a different machine."""
    ta, tb = [], []
    for _ in range(n // block):
        ta += timed(app, block)
        tb += timed(bare, block)
    return ta, tb


def start_bare() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port)], stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/card")
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.02)
    raise RuntimeError("bare server did not start")


def walk_chain(http: httpx.Client, workflow: str, run_id: str, first: str) -> int:
    """Follow hx-trigger=load cards as htmx does until a card asks for input; the number of requests."""
    url, n = f"/{workflow}/{first}?pipeline_id={run_id}", 0
    while url:
        html = http.get(url, headers=HX).text
        n += 1
        m = re.search(r'hx-get="([^"]+)" hx-trigger="load"', html)
        url = m.group(1).replace("&amp;", "&") if m else None
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    n = 100 if ap.parse_args().quick else 500
    tmp = Path(tempfile.mkdtemp(prefix="bench-cards-"))
    app = ServerProcess(tmp / "data", tmp / "downloads").start()
    bare, bare_url = start_bare()
    try:
        http = app.client()
        http.headers.update(HX)
        http.post("/hello/init", data={"pipeline_id": "bench"})
        http.post("/hello/name/submit", data={"pipeline_id": "bench", "name": "Arthur"})
        for i in range(n):
            http.post("/hello/init", data={"pipeline_id": f"bench-{i}"})
        bare_http = httpx.Client(base_url=bare_url, headers=http.headers, cookies=http.cookies,
                                 follow_redirects=True, timeout=30)
        timed(lambda: http.get("/hello/name?pipeline_id=bench"), 20)  # warm up both
        timed(lambda: bare_http.get("/card"), 20)
        get_card, bare_get = map(summary, interleaved(lambda: http.get("/hello/name?pipeline_id=bench"),
                                                      lambda: bare_http.get("/card"), n))
        ids = iter(range(n))
        post_card, bare_post = map(summary, interleaved(
            lambda: http.post("/hello/name/submit", data={"pipeline_id": f"bench-{next(ids)}", "name": "Robin"}),
            lambda: bare_http.post("/card", data={"name": "Robin"}), n))
    finally:
        app.stop()
        bare.terminate()
    print("card latency over HTTP (loopback, keep-alive, one client)")
    print(f"  step GET (locked card + next) {fmt(get_card)}")
    print(f"  bare Starlette GET            {fmt(bare_get)}")
    print(f"  step submit (validate+store)  {fmt(post_card)}")
    print(f"  bare Starlette POST           {fmt(bare_post)}")
    print(f"  ratio GET    median {get_card['median_ms'] / bare_get['median_ms']:.2f}x   "
          f"p99 {get_card['p99_ms'] / bare_get['p99_ms']:.2f}x   (target: median <= 1.5x)")
    print(f"  ratio submit median {post_card['median_ms'] / bare_post['median_ms']:.2f}x   "
          f"p99 {post_card['p99_ms'] / bare_post['p99_ms']:.2f}x   (target: median <= 1.5x)")
    resume_fifty(tmp)


def resume_fifty(tmp: Path):
    """A 50-step workflow in a temporary workflows folder, served in-process by the same uvicorn runner."""
    import server.workflows as workflows
    from desktop.server import AppServer
    from server.config import Config
    from server.security import TOKEN_HEADER, csrf_token

    extra = tmp / "extra_workflows"
    extra.mkdir()
    (extra / "long.py").write_text(FIFTY_STEPS)
    workflows.__path__.append(str(extra))
    cfg = Config(data_dir=tmp / "data50", downloads_dir=tmp / "dl50", port=free_port())
    srv = AppServer(cfg)
    srv.start()
    try:
        # As the window does: the launch cookie, the Origin and the page's CSRF token on every request.
        http = httpx.Client(base_url=cfg.base_url, headers={"Origin": cfg.base_url, TOKEN_HEADER: csrf_token(cfg)})
        http.get(cfg.bootstrap_url)
        http.post("/long/init", data={"pipeline_id": "fifty"}, headers=HX)
        for i in range(1, 51):
            http.post(f"/long/q{i:02d}/submit", data={"pipeline_id": "fifty", f"q{i:02d}": str(i)}, headers=HX)
        samples, requests = [], 0
        for _ in range(10):
            t = time.perf_counter()
            requests = walk_chain(http, "long", "fifty", "q01")
            samples.append(time.perf_counter() - t)
    finally:
        srv.stop()
    s = summary(samples)
    print(f"resume a run of 50 finished steps ({requests} card requests, whole chain): "
          f"median {s['median_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms")


if __name__ == "__main__":
    main()
