"""Load on loopback: 50 concurrent clients walk Hello runs against `./pipedeck serve` for 60 s (--quick: 10 s) while
a chat answer streams from the fake Ollama over the app's WebSocket. Prints requests/s, p50/p99 latency against a
one-client baseline measured in the same run, errors (must be 0) and the server's RSS over time (must level off)."""
import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from websockets.asyncio.client import connect

from common import summary
from tests.fakes.ollama import FakeOllama
from server.security import TOKEN_HEADER
from tests.support import ServerProcess, page_token

HX = {"HX-Request": "true"}
STEPS = (("name", "name", "Arthur"), ("quest", "quest", "To seek the Grail"), ("color", "color", "blue"))


class Tally:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.runs = 0


async def timed(tally: Tally, call, *args, **kw):
    t = time.perf_counter()
    try:
        r = await call(*args, **kw)
        if r.status_code != 200:
            tally.errors.append(f"{r.request.method} {r.request.url.path}: {r.status_code}")
    except httpx.HTTPError as e:
        tally.errors.append(f"{type(e).__name__}: {e}")
    tally.latencies.append(time.perf_counter() - t)


async def walker(server: ServerProcess, name: str, tally: Tally, stop_at: float):
    """One user: start a run, answer its three cards, open the final card; again and again."""
    async with httpx.AsyncClient(base_url=server.url, headers={"Origin": server.url}, timeout=30) as c:
        home = await c.get(server.ready_url, follow_redirects=True)
        c.headers[TOKEN_HEADER] = page_token(home.text)  # sent by the page's scripts with every change
        n = 0
        while time.perf_counter() < stop_at:
            run_id = f"{name}-{n}"
            await timed(tally, c.post, "/hello/init", data={"pipeline_id": run_id}, headers=HX)
            for step, field, value in STEPS:
                await timed(tally, c.get, f"/hello/{step}", params={"pipeline_id": run_id}, headers=HX)
                await timed(tally, c.post, f"/hello/{step}/submit", data={"pipeline_id": run_id, field: value},
                            headers=HX)
            await timed(tally, c.get, "/hello/finalize", params={"pipeline_id": run_id}, headers=HX)
            tally.runs += 1
            n += 1


async def chat_stream(server: ServerProcess, stop_at: float) -> dict:
    """Ask the assistant one question over the chat WebSocket and count the streamed frames until the bench ends."""
    secret = server.ready_url.split("secret=", 1)[1]
    headers = {"Cookie": f"pipedeck_secret_{server.port}={secret}"}
    frames, first = 0, None
    token = page_token(httpx.get(server.ready_url, follow_redirects=True).text)
    async with connect(f"ws://127.0.0.1:{server.port}/chat/ws?token={token}", origin=server.url,
                       additional_headers=headers) as ws:
        t0 = time.perf_counter()
        await ws.send(json.dumps({"msg": "Tell me a very long story about swallows.", "HEADERS": {}}))
        while time.perf_counter() < stop_at:
            try:
                await asyncio.wait_for(ws.recv(), timeout=max(0.05, stop_at - time.perf_counter()))
            except asyncio.TimeoutError:
                break
            frames += 1
            first = first or time.perf_counter() - t0
    return {"frames": frames, "first_s": first}


async def sample_rss(proc: psutil.Process, samples: list, stop_at: float, every: float):
    while time.perf_counter() < stop_at:
        samples.append((time.perf_counter(), proc.memory_info().rss))
        await asyncio.sleep(every)
    samples.append((time.perf_counter(), proc.memory_info().rss))


async def load(server: ServerProcess, clients: int, seconds: float) -> tuple[Tally, dict, list]:
    proc = psutil.Process(server.proc.pid)
    tally, rss = Tally(), []
    cpu0, own0 = sum(proc.cpu_times()[:2]), time.process_time()
    stop_at = time.perf_counter() + seconds
    walkers = [walker(server, f"load-{i}", tally, stop_at) for i in range(clients)]
    results = await asyncio.gather(chat_stream(server, stop_at), sample_rss(proc, rss, stop_at, seconds / 12),
                                   *walkers)
    tally.server_cpu, tally.client_cpu = sum(proc.cpu_times()[:2]) - cpu0, time.process_time() - own0
    return tally, results[0], rss


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--clients", type=int, default=50)
    args = ap.parse_args()
    seconds = 10.0 if args.quick else 60.0
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    # A long answer, a token every 20 ms: it streams for the whole bench.
    fake = FakeOllama(tokens=100_000, delay=0.02).start()
    server = ServerProcess(tmp / "data", tmp / "downloads", env={"OLLAMA_HOST": fake.url}).start()
    try:
        asyncio.run(load(server, 1, 1.0))  # warm-up: imports, first pages, SQLite cache
        base, _, _ = asyncio.run(load(server, 1, min(5.0, seconds / 2)))
        tally, chat, rss = asyncio.run(load(server, args.clients, seconds))
    finally:
        server.stop()
        fake.stop()
    b, s = summary(base.latencies), summary(tally.latencies)
    print(f"load: {args.clients} clients walking Hello runs for {seconds:.0f} s on loopback, chat streaming meanwhile")
    print(f"  one-client baseline   {len(base.latencies) / min(5.0, seconds / 2):7.1f} req/s   "
          f"median {b['median_ms']:6.2f} ms   p99 {b['p99_ms']:6.2f} ms")
    print(f"  {args.clients} clients            {len(tally.latencies) / seconds:7.1f} req/s   "
          f"median {s['median_ms']:6.2f} ms   p99 {s['p99_ms']:6.2f} ms   ({tally.runs} runs finished)")
    base_rate = len(base.latencies) / min(5.0, seconds / 2)
    print(f"  ratio vs baseline     throughput {len(tally.latencies) / seconds / base_rate:.2f}x"
          f"   p99 {s['p99_ms'] / b['p99_ms']:.1f}x")
    for label, t in (("baseline", base), ("load", tally)):
        n = max(1, len(t.latencies))
        print(f"  CPU per request       {label:8s} server {t.server_cpu / n * 1000:5.2f} ms   "
              f"this bench's clients {t.client_cpu / n * 1000:5.2f} ms")
    print(f"  errors                {len(tally.errors)}" + (f"   first: {tally.errors[:3]}" if tally.errors else ""))
    first = f"{chat['first_s'] * 1000:.0f} ms" if chat["first_s"] else "never"
    print(f"  chat stream           {chat['frames']} WebSocket frames received, first after {first}")
    t0 = rss[0][0]
    print(f"  server RSS            start {mb(rss[0][1])}   end {mb(rss[-1][1])}   "
          f"growth {mb(rss[-1][1] - rss[0][1])}")
    print("  RSS over time         " + "  ".join(f"{t - t0:4.0f}s {r / 1e6:5.1f}" for t, r in rss))
    half = [r for t, r in rss if t - t0 >= (rss[-1][0] - t0) / 2]
    print(f"  second-half growth    {mb(half[-1] - half[0])} (levelled off when small next to the first half)")
    return 1 if tally.errors or not chat["frames"] else 0


if __name__ == "__main__":
    sys.exit(main())
