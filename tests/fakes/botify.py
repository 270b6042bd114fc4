"""A fake Botify API on 127.0.0.1 speaking the real protocol (see shared spec botify.md), with injectable faults.

Run it in a thread from a test (`FakeBotify().start()`), or alone for trying the app by hand:
`python -m tests.fakes.botify` then `BOTIFY_API_URL=<printed url>/v1 ./pipedeck` (token: `good-token`)."""
from __future__ import annotations

import asyncio
import gzip
import io
import json
import socket
import threading
from dataclasses import dataclass, field

from aiohttp import web

NOT_AUTHORIZED = {"error": {"error_code": "1001", "message": "Not Authorized"}}
VERBOSE = {  # the human-readable column names Botify writes, by the last part of the BQL field
    "url": "Full URL", "outlinks_internal.graph.url": "Outlinks Internal: Destination URL",
    "segments.pagetype.value": "Segments: pagetype Value", "compliant.is_compliant": "Is Compliant",
    "canonical.to.equal": "Canonical: Is Self", "sitemaps.present": "Present in Sitemaps",
    "count_impressions": "Impressions", "count_clicks": "Clicks",
}
PAGETYPES = ("home", "category", "product", "article")
BODY = web.RequestKey("body", object)
USERNAME = web.RequestKey("username", str)


def verbose_name(bql: str) -> str:
    for suffix, name in VERBOSE.items():
        if bql == suffix or bql.endswith("." + suffix):
            return name
    return bql


def csv_gz(header: list[str], rows, line_end: str = "\n", level: int = 1) -> bytes:
    """A gzip CSV as Botify writes it: `sep=,`, then verbose headers, then the rows (already CSV text)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=level, mtime=0) as gz:
        gz.write(("sep=," + line_end + ",".join(header) + line_end).encode())
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 10000:
                gz.write((line_end.join(batch) + line_end).encode())
                batch = []
        if batch:
            gz.write((line_end.join(batch) + line_end).encode())
    return buf.getvalue()


def link_rows(n: int, site: str = "https://www.example.com"):
    """`n` edges; the first source has a comma in it, so it is quoted, as in a real export."""
    pages = max(2, n // 8)
    for i in range(n):
        source = f'"{site}/search?q=a,b"' if i == 0 else f"{site}/p{i % pages}"
        yield f"{source},{site}/p{(i * 7 + 1) % pages}"


def meta_rows(n: int, dims: list[str], metrics: list[str], site: str = "https://www.example.com"):
    for i in range(n):
        values = [f"{site}/p{i}"]
        for d in dims[1:]:
            values.append(PAGETYPES[i % 4] if "pagetype" in d else ("true" if i % 3 else "false"))
        values += [str((i * 37) % 1000) if "impressions" in m else str((i * 7) % 50) for m in metrics]
        yield ",".join(values)


@dataclass
class FakeProject:
    analyses: list[dict] = field(default_factory=lambda: [
        {"slug": "20240301", "name": "March crawl", "status": "success"},
        {"slug": "20240201", "name": "February crawl", "status": "success"},
    ])
    search_console: bool = True
    depth_counts: list[int] = field(default_factory=lambda: [40, 180, 420, 420])
    links_rows: int = 420
    meta_rows: int = 64


class FakeBotify:
    def __init__(self, token: str = "good-token", username: str = "ada.lovelace"):
        self.tokens = {token: username}
        self.projects: dict[tuple[str, str], FakeProject] = {("acme", "shop"): FakeProject()}
        self.page_size_cap = 100
        self.polls_to_done = 3  # CREATED, PROCESSING…, then DONE on this poll
        self.line_end = "\n"
        # Faults, set by tests while the fake runs.
        self.unauthorized_from: int | None = None  # from this API call on (1-based), every call answers 401
        self.rate_limit = 0  # the next N API calls answer 429 with Retry-After
        self.retry_after = "1"
        self.server_errors = 0  # the next N API calls answer 503
        self.fail_kinds: set[str] = set()  # "links" / "meta" jobs end FAILED
        self.truncate_downloads = 0  # the next N downloads stop half-way
        self.chunk_delay = 0.0  # seconds between 64 KB chunks of a download
        # What happened, for assertions.
        self.calls = 0
        self.requests: list[dict] = []
        self.jobs: dict[int, dict] = {}
        self.job_creations = 0
        self.downloads: list[str] = []  # the kind ("links"/"meta") of each download started
        self._files: dict[int, bytes] = {}
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/v1"

    # Serving.

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.gate])
        app.add_routes([
            web.get("/v1/authentication/profile", self.profile),
            web.get("/v1/analyses/{org}/{project}/light", self.analyses),
            web.get("/v1/projects/{org}/{project}/collections", self.collections),
            web.post("/v1/projects/{org}/{project}/query", self.query),
            web.post("/v1/jobs", self.create_job),
            web.get("/v1/jobs/{job_id}", self.job),
            web.get("/files/{job_id}.csv.gz", self.download),
        ])
        return app

    @web.middleware
    async def gate(self, request: web.Request, handler):
        if not request.path.startswith("/v1/"):
            return await handler(request)
        self.calls += 1
        body = await request.json() if request.can_read_body else None
        self.requests.append({"method": request.method, "path": request.path, "query": dict(request.query),
                              "body": body})
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Token ") or auth[6:] not in self.tokens:
            return web.json_response(NOT_AUTHORIZED, status=401)
        if self.unauthorized_from is not None and self.calls >= self.unauthorized_from:
            return web.json_response(NOT_AUTHORIZED, status=401)
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return web.json_response({"error": {"error_code": "429", "message": "Too many requests"}}, status=429,
                                     headers={"Retry-After": self.retry_after})
        if self.server_errors > 0:
            self.server_errors -= 1
            return web.json_response({"error": {"error_code": "500", "message": "Internal error"}}, status=503)
        request[BODY] = body
        request[USERNAME] = self.tokens[auth[6:]]
        return await handler(request)

    def project(self, request) -> FakeProject:
        found = self.projects.get((request.match_info["org"], request.match_info["project"]))
        if found is None:
            raise web.HTTPNotFound(text=json.dumps({"error": {"error_code": "404", "message": "Project not found"}}),
                                   content_type="application/json")
        return found

    async def profile(self, request):
        return web.json_response({"data": {"username": request[USERNAME], "email": "ada@example.com"}})

    async def analyses(self, request):
        results = self.project(request).analyses
        page, size = int(request.query.get("page", 1)), min(int(request.query.get("size", 100)), self.page_size_cap)
        chunk = results[(page - 1) * size: page * size]
        base = f"{self.url}{request.path}"
        more = page * size < len(results)
        return web.json_response({
            "count": len(results), "page": page, "size": size, "results": chunk,
            "next": f"{base}?page={page + 1}&size={size}" if more else None,
            "previous": f"{base}?page={page - 1}&size={size}" if page > 1 else None})

    async def collections(self, request):
        proj = self.project(request)
        found = [{"id": f"crawl.{a['slug']}", "name": a["name"]} for a in proj.analyses if a["status"] == "success"]
        if proj.search_console:
            found.append({"id": "search_console", "name": "Search Console"})
        return web.json_response(found)

    async def query(self, request):
        proj = self.project(request)
        depth = int(request[BODY]["query"]["filters"]["value"])
        count = proj.depth_counts[min(depth, len(proj.depth_counts)) - 1]
        return web.json_response({"count": 1, "next": None, "page": 1, "size": 10,
                                  "results": [{"dimensions": [], "metrics": [count]}]})

    async def create_job(self, request):
        self.job_creations += 1
        job_id = 10000 + self.job_creations
        payload = request[BODY]["payload"]
        dims = payload["query"]["query"]["dimensions"]
        kind = "links" if any(d.endswith("outlinks_internal.graph.url") for d in dims) else "meta"
        self.jobs[job_id] = {"kind": kind, "body": request[BODY], "polls": 0,
                             "project": (payload["username"], payload["project"])}
        return web.json_response({"job_id": job_id, "job_url": f"/v1/jobs/{job_id}", "job_status": "CREATED",
                                  "payload": payload}, status=201)

    async def job(self, request):
        job_id = int(request.match_info["job_id"])
        job = self.jobs.get(job_id)
        if job is None:
            raise web.HTTPNotFound(text=json.dumps({"error": {"error_code": "404", "message": "Job not found"}}),
                                   content_type="application/json")
        job["polls"] += 1
        answer = {"job_id": job_id, "job_type": "export", "job_status": "PROCESSING", "results": None}
        if job["polls"] == 1:
            answer["job_status"] = "CREATED"
        elif job["polls"] >= self.polls_to_done:
            if job["kind"] in self.fail_kinds:
                answer.update(job_status="FAILED", error={"error_code": "2001", "message": "Export failed on our side"})
            else:
                answer.update(job_status="DONE", results={"download_url": f"{self.url}/files/{job_id}.csv.gz",
                                                          "nb_lines": self.rows(job)})
        return web.json_response(answer)

    def rows(self, job) -> int:
        proj = self.projects[job["project"]]
        return proj.links_rows if job["kind"] == "links" else proj.meta_rows

    def file_for(self, job_id: int) -> bytes:
        if job_id not in self._files:
            job = self.jobs[job_id]
            query = job["body"]["payload"]["query"]["query"]
            dims, metrics = query["dimensions"], query["metrics"]
            header = [verbose_name(c) for c in dims + metrics]
            rows = (link_rows(self.rows(job)) if job["kind"] == "links"
                    else meta_rows(self.rows(job), dims, metrics))
            self._files[job_id] = csv_gz(header, rows, self.line_end)
        return self._files[job_id]

    async def download(self, request):
        job_id = int(request.match_info["job_id"])
        self.downloads.append(self.jobs[job_id]["kind"])
        data = self.file_for(job_id)
        if self.truncate_downloads > 0:
            self.truncate_downloads -= 1
            data = data[: len(data) // 2]
        resp = web.StreamResponse(headers={"Content-Type": "application/gzip"})
        resp.content_length = len(data)
        await resp.prepare(request)
        for i in range(0, len(data), 65536):
            await resp.write(data[i:i + 65536])
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
        await resp.write_eof()
        return resp

    # Running in a thread.

    def start(self) -> "FakeBotify":
        sock = socket.socket()
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve():
            self.runner = web.AppRunner(self.app(), handle_signals=False)
            await self.runner.setup()
            await web.SockSite(self.runner, sock).start()
            ready.set()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(serve())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="fake-botify", daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Botify did not start")
        return self

    def stop(self) -> None:
        async def close():
            await self.runner.cleanup()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    # Assertions.

    def bodies(self, path: str) -> list[dict]:
        return [r["body"] for r in self.requests if r["path"] == path and r["method"] == "POST"]


if __name__ == "__main__":
    fake = FakeBotify().start()
    print(f"Fake Botify: BOTIFY_API_URL={fake.api_url}  token: good-token  project: "
          "https://app.botify.com/acme/shop/", flush=True)
    threading.Event().wait()
