"""Chat streaming: tokens per second drawn in a browser page through the app (fake Ollama -> app -> WebSocket ->
DOM -> rendered text) versus a client reading the same fake directly, in the same run; and the first-token latency
the app adds, to the first token drawn.
The fake emits its tokens as fast as it can."""
import argparse
import asyncio
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ollama

from common import ROOT  # noqa: F401  (puts the repo on sys.path)
from tests.fakes.ollama import FakeOllama
from tests.support import CHROMIUM, ServerProcess

# Times what the reader sees: a token counts once it is drawn in the message's rendered `.md` and laid out (the
# check forces the layout, so a page that leaves it to the next frame pays it here; painting that frame is not
# counted), not when it reaches the hidden `.src`; the arrival in `.src` is reported too. Each check looks only at
# the newest text of the answer: reading the whole growing text on every change would make the measurement itself
# cost O(answer) per token and slow the page it measures.
WATCH = """([last]) => new Promise((resolve) => {
    const log = document.getElementById('chat-log');
    const before = log.querySelectorAll('.msg.assistant').length;
    const started = performance.now();
    let msg = null, first = null, arrived = null, drawnFirst = null;
    const stamp = () => { void log.scrollHeight; return performance.now() - started; };
    // The newest non-blank text under `el` (rendered Markdown ends with a newline text node after its </p>).
    const lastText = (el) => {
        const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let n = walk.lastChild();
        while (n && !/\\S/.test(n.data)) n = walk.previousNode();
        return n ? n.data : "";
    };
    const check = () => {
        if (msg === null || !msg.isConnected) {
            const all = log.querySelectorAll('.msg.assistant');
            if (all.length <= before) return;
            msg = all[all.length - 1];
        }
        const src = msg.querySelector('.src'), md = msg.querySelector('.md');
        if (first === null && src.lastChild) first = performance.now() - started;
        if (arrived === null && src.lastChild && src.lastChild.textContent.endsWith(last)) arrived = performance.now() - started;
        const shown = md ? lastText(md) : "";
        if (drawnFirst === null && shown) drawnFirst = stamp();
        if (shown.endsWith(last)) {
            const total = stamp();
            observer.disconnect();
            resolve({first_ms: first, arrived_ms: arrived, first_drawn_ms: drawnFirst, total_ms: total});
        }
    };
    const observer = new MutationObserver(check);
    observer.observe(log, {subtree: true, childList: true, characterData: true});
    window.benchSend();
})"""

SEND = """() => { window.benchSend = () => {
    const box = document.querySelector('#chat-form textarea');
    box.value = 'bench';
    box.form.requestSubmit();
}; }"""


async def direct(url: str, model: str) -> tuple[int, float, float]:
    """Tokens, seconds to the first token, seconds to the last, reading the fake with Ollama's own client."""
    client = ollama.AsyncClient(host=url)  # made before the clock starts, as the app keeps its client
    started, first, n = time.perf_counter(), None, 0
    async for part in await client.chat(model=model, messages=[{"role": "user", "content": "bench"}], stream=True):
        if part.message.content:
            n += 1
            first = first or time.perf_counter() - started
    total = time.perf_counter() - started
    await client.close()
    return n, first, total


async def over_websocket(app: ServerProcess, tokens: int) -> tuple[float, float]:
    """Seconds to the first and the last token for a bare WebSocket client of the app (no browser): the app's own share."""
    from websockets.asyncio.client import connect

    from server.security import TOKEN_HEADER
    http = app.client()
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    token = http.headers[TOKEN_HEADER]  # the page's CSRF token: the chat socket carries it in its URL
    async with connect(app.url.replace("http", "ws", 1) + "/chat/ws?token=" + token,
                       additional_headers={"Cookie": cookie, "Origin": app.url}) as ws:
        started, first = time.perf_counter(), None
        await ws.send(json.dumps({"msg": "bench", "HEADERS": {}}))
        while True:
            message = await asyncio.wait_for(ws.recv(), 30)
            if "beforeend:#msg" not in message:
                continue
            first = first or time.perf_counter() - started
            if f" tok{tokens - 1}<" in message:
                return first, time.perf_counter() - started


async def in_process(url: str, tmp: Path, rounds: int) -> list[tuple[float, float]]:
    """The app's own streaming code (reader, relay, saves, HTML fragments) in this process with one recording
    panel, against the direct client in the same loop: what the relay costs apart from processes and sockets."""
    from server.config import Config
    from server.context import Context
    from server.db import open_db
    from server.engine import RunStore
    from server.llm import services

    class Panel:
        async def send_text(self, html):
            pass

    cfg = Config(data_dir=tmp / "inproc", downloads_dir=tmp / "inproc-dl", ollama_host=url)
    cfg.ensure_dirs()
    db = open_db(cfg.db_path)
    llm = services(Context(cfg=cfg, db=db, runs=RunStore(db)))
    llm.hub.join(Panel())
    client = ollama.AsyncClient(host=url)
    out = []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        async for _part in await client.chat(model="qwen2.5:0.5b", messages=[{"role": "user", "content": "b"}],
                                             stream=True):
            pass
        direct_s = time.perf_counter() - started
        started = time.perf_counter()
        await llm.assistant.stream_reply([{"role": "user", "content": "b"}])
        out.append((direct_s, time.perf_counter() - started))
    return out[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    quick = ap.parse_args().quick
    tokens, rounds = (5000, 3) if quick else (50000, 5)
    fake = FakeOllama(tokens=tokens, delay=0).start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    app = ServerProcess(tmp / "data", tmp / "downloads", env={"OLLAMA_HOST": fake.url}).start()
    from playwright.sync_api import sync_playwright
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"])
            page = browser.new_page()
            page.goto(app.ready_url)
            page.goto(app.url + "/hello")
            page.wait_for_selector("#llm-status .llm-online", timeout=15000)
            page.evaluate(SEND)
            last = f" tok{tokens - 1}"
            direct_runs, page_runs, ws_runs = [], [], []
            for i in range(rounds + 1):  # the first round of each warms up and is not counted
                # Playwright's sync API owns this thread's event loop: the direct client runs in its own thread.
                with ThreadPoolExecutor(1) as pool:
                    d = pool.submit(asyncio.run, direct(fake.url, "qwen2.5:0.5b")).result()
                p = page.evaluate(WATCH, [last])
                app.client().post("/chat/clear")
                page.goto("about:blank")  # the bare WebSocket client is then the only panel
                with ThreadPoolExecutor(1) as pool:
                    w = pool.submit(asyncio.run, over_websocket(app, tokens)).result()
                app.client().post("/chat/clear")
                page.goto(app.url + "/hello")
                page.wait_for_selector("#llm-status .llm-online", timeout=15000)
                page.evaluate(SEND)
                if i:
                    direct_runs.append(d)
                    page_runs.append(p)
                    ws_runs.append(w)
            browser.close()
        with ThreadPoolExecutor(1) as pool:
            inproc = pool.submit(asyncio.run, in_process(fake.url, tmp, rounds)).result()
    finally:
        app.stop()
        fake.stop()
    n = direct_runs[0][0]
    med = statistics.median
    # Streaming rate: tokens after the first over the time from first to last token (latency is reported apart);
    # the page's tokens are those drawn for the reader.
    direct_rate = med((n - 1) / (total - first) for _, first, total in direct_runs)
    page_rate = med((n - 1) / ((r["total_ms"] - r["first_drawn_ms"]) / 1000) for r in page_runs)
    arrived_rate = med((n - 1) / ((r["arrived_ms"] - r["first_ms"]) / 1000) for r in page_runs)
    direct_whole = med(n / total for _, _, total in direct_runs)
    page_whole = med(n / (r["total_ms"] / 1000) for r in page_runs)
    ws_rate = med((n - 1) / (total - first) for first, total in ws_runs)
    ws_first = med(first for first, _ in ws_runs) * 1000
    direct_first = med(first for _, first, _ in direct_runs) * 1000
    page_first = med(r["first_drawn_ms"] for r in page_runs)
    arrived_first = med(r["first_ms"] for r in page_runs)
    print(f"chat streaming, {n} tokens per answer, median of {rounds} rounds (fake Ollama at full speed)")
    print(f"  direct client (ollama-python)  streaming {direct_rate:8.0f} tok/s   whole answer {direct_whole:8.0f} tok/s"
          f"   first token {direct_first:6.1f} ms")
    print(f"  through the app to the page    streaming {page_rate:8.0f} tok/s   whole answer {page_whole:8.0f} tok/s"
          f"   first token {page_first:6.1f} ms   (drawn)")
    print(f"    arrived in the page's DOM    streaming {arrived_rate:8.0f} tok/s"
          f"                              first token {arrived_first:6.1f} ms   (hidden source, not yet drawn)")
    print(f"  through the app to a bare WebSocket client (no browser): streaming {ws_rate:8.0f} tok/s   "
          f"first token {ws_first:6.1f} ms   ratio {ws_rate / direct_rate:.2f}")
    relay = med(direct_s / app_s for direct_s, app_s in inproc)
    print(f"  the app's streaming code in one process with the direct client: speed ratio {relay:.2f}")
    print(f"  ratio page/direct (drawn): streaming {page_rate / direct_rate:.2f} (target >= 0.9), "
          f"whole answer {page_whole / direct_whole:.2f}; arrived only: streaming {arrived_rate / direct_rate:.2f}")
    print(f"  added first-token latency {page_first - direct_first:.1f} ms drawn (target < 10 ms), "
          f"{arrived_first - direct_first:.1f} ms arrived")


if __name__ == "__main__":
    main()
