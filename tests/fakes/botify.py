"""A fake Botify API on 127.0.0.1 speaking the real protocol (see shared spec botify.md), with injectable faults.

Each behaviour cites the public reference it follows: developers-docs = botify-hq/developers-docs api_docs/markdowns,
openapi = api-evangelist/botify openapi/botify-*-api-openapi.yml, pipulate = miklevin/pipulate, posts =
miklevin/MikeLev.in _posts. Run it alone for trying the app by hand: `python -m tests.fakes.botify`, then
`BOTIFY_API_URL=<printed url>/v1 ./pipedeck` (token: `good-token`)."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

from aiohttp import web

from .botify_data import FakeProject, csv_gz, link_rows, meta_rows, verbose_name

__all__ = ["FakeBotify", "FakeProject", "csv_gz", "link_rows"]


def error(status: int, code: str, message: str) -> web.Response:
    # Error envelope {"error": {"error_code", "message"}} with the documented codes (developers-docs api/error-codes.md).
    return web.json_response({"error": {"error_code": code, "message": message}}, status=status)


class FakeBotify:
    def __init__(self, token: str = "good-token", username: str = "ada.lovelace"):
        self.tokens = {token: username}
        self.projects: dict[tuple[str, str], FakeProject] = {("acme", "shop"): FakeProject()}
        self.page_size_cap = 100
        self.polls_to_done = 3  # CREATED, PROCESSING…, then DONE on this poll
        self.line_end = "\n"
        # What the files start with: "request" follows the job's formatter_config, "always"/"never" overrule it.
        self.header_mode = "request"
        self.sep_mode = "request"
        self.reset()
        # What happened, for assertions.
        self.calls = 0
        self.requests: list[dict] = []
        self.jobs: dict[int, dict] = {}
        self.job_creations = 0
        self.downloads: list[str] = []  # the kind ("links"/"meta") of each download started
        self._files: dict[int, bytes] = {}
        self.port = 0

    def reset(self) -> None:
        """Faults, set by tests while the fake runs; all off."""
        self.unauthorized_from: int | None = None  # from this API call on (1-based), every call answers 401
        self.rate_limit = 0  # the next N API calls answer 429
        self.retry_after: str | None = None  # a Retry-After to send with 429s (Botify documents none)
        self.server_errors = 0  # the next N API calls answer 503
        self.fail_kinds: set[str] = set()  # "links" / "meta" jobs end FAILED
        self.vanish_kinds: set[str] = set()  # polling these jobs answers 404 (the job is gone)
        self.truncate_downloads = 0  # the next N downloads stop half-way
        self.chunk_delay = 0.0  # seconds between 64 KB chunks of a download
        self.link_ttl: float | None = None  # download links expire this many seconds after the job is DONE
        self.lose_job_answers = 0  # the next N POST /jobs create the job, then the answer is lost…
        self.lost_answer = "disconnect"  # …by a dropped connection, a 503 or a hang ("disconnect"/"503"/"hang")
        self.export_running = 0  # the next N POST /jobs are refused: an export is already running

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
            web.get("/v1/projects/{org}/{project}/collections/{collection}", self.collection),
            web.post("/v1/projects/{org}/{project}/query", self.query),
            web.get("/v1/jobs", self.list_jobs),
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
        # `Authorization: Token <token>`, else 401 code 1001 (developers-docs api/authentication.md, error-codes.md).
        if not auth.startswith("Token ") or auth[6:] not in self.tokens:
            return error(401, "1001", "Not Authorized")
        if self.unauthorized_from is not None and self.calls >= self.unauthorized_from:
            return error(401, "1001", "Not Authorized")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            # 429 once the limit is hit, code 1053, no Retry-After documented (developers-docs api/rate-limit.md).
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            return web.json_response({"error": {"error_code": "1053", "message": "Too many requests"}}, status=429,
                                     headers=headers)
        if self.server_errors > 0:
            self.server_errors -= 1
            return error(503, "1000", "Unknown error")
        return await handler(request)

    def user(self, request) -> str:
        return self.tokens[request.headers["Authorization"][6:]]

    def project(self, request) -> FakeProject:
        found = self.projects.get((request.match_info["org"], request.match_info["project"]))
        if found is None:  # code 1010 "Project was not found" (developers-docs api/error-codes.md)
            raise web.HTTPNotFound(text=json.dumps({"error": {"error_code": "1010", "message": "Project was not found"}}),
                                   content_type="application/json")
        return found

    async def profile(self, request):
        # GET /authentication/profile → data.username (pipulate apps/100_connect_with_botify.py).
        return web.json_response({"data": {"username": self.user(request), "email": "ada@example.com"}})

    async def analyses(self, request):
        # Paginated {count, next, previous, page, size, results}, `next` absolute (developers-docs api/project/list-analyses.md).
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
        # A list of {id, name, timestamped, date_start, date_end} (openapi collections: Collection; collections.md).
        proj = self.project(request)
        found = [{"id": f"crawl.{a['slug']}", "name": a["name"], "timestamped": False}
                 for a in proj.analyses if a["status"] == "success"]
        if proj.search_console:
            found.append({"id": "search_console", "name": "Search Console", "timestamped": True,
                          "date_start": proj.sc_dates[0], "date_end": proj.sc_dates[1]})
        return web.json_response(found)

    async def collection(self, request):
        # {datasets: [{id, name, fields: [{id, name, kind, …}]}], metadata} (openapi getCollectionDetail;
        # pipulate scripts/botify/botify_api_bootcamp.md "List Fields").
        proj, cid = self.project(request), request.match_info["collection"]
        fields = proj.fields(cid)
        if fields is None:
            return error(404, "1004", "Analysis was not found")
        return web.json_response({"datasets": [{"id": cid, "name": cid, "groups": [], "category": [], "fields": [
            {"id": f, "name": verbose_name(f), "kind": "metric" if "count_" in f else "dimension", "type": "string",
             "subtype": "", "multiple": f.endswith("graph.url"), "permissions": [], "optional": True}
            for f in fields]}], "metadata": {}})

    def unknown_field(self, proj: FakeProject, query: dict) -> str | None:
        inner = query.get("query") or {}
        used = list(inner.get("dimensions") or [])
        used += [m if isinstance(m, str) else (m.get("args") or [""])[0] for m in inner.get("metrics") or []]
        if isinstance(inner.get("filters"), dict) and inner["filters"].get("field"):
            used.append(inner["filters"]["field"])
        return next((f for f in used if not proj.knows(f)), None)

    async def query(self, request):
        proj, body = self.project(request), await request.json()  # aiohttp keeps the body read by the gate
        if missing := self.unknown_field(proj, body):  # code 1029 (developers-docs api/error-codes.md)
            return error(400, "1029", f"Field does not exist: {missing}")
        depth = int(body["query"]["filters"]["value"])
        count = proj.depth_counts[min(depth, len(proj.depth_counts)) - 1]
        return web.json_response({"count": 1, "next": None, "page": 1, "size": 10,
                                  "results": [{"dimensions": [], "metrics": [count]}]})

    def echo(self, payload: dict) -> dict:
        # Jobs echo their payload with formatter defaults filled in (posts 2025-01-12-breaking-changes-….md).
        config = {"delimiter": ",", "print_header": True, "header_format": "verbose", "print_delimiter": True}
        return {**payload, "formatter_config": {**config, **(payload.get("formatter_config") or {})},
                "export_job_name": payload.get("export_job_name")}

    def job_json(self, job_id: int, job: dict) -> dict:
        # JobResults: job_id, job_type, job_url, job_status, date_created, payload, user (openapi Job API).
        return {"job_id": job_id, "job_type": "export", "job_url": f"/v1/jobs/{job_id}", "job_status": job["status"],
                "date_created": job["created"], "payload": self.echo(job["body"]["payload"]), "user": job["user"],
                "results": job.get("results"), "metadata": None}

    async def create_job(self, request):
        body = await request.json()
        payload = body["payload"]
        proj = self.projects.get((payload.get("username"), payload.get("project")))
        if proj is None:
            return error(404, "1010", "Project was not found")
        if self.export_running > 0:  # code 1058 (developers-docs api/error-codes.md)
            self.export_running -= 1
            return error(400, "1058", "An advanced export is already running")
        if missing := self.unknown_field(proj, payload["query"]):
            return error(400, "1029", f"Field does not exist: {missing}")
        self.job_creations += 1
        job_id = 10000 + self.job_creations
        dims = payload["query"]["query"]["dimensions"]
        kind = "links" if any(d.endswith("outlinks_internal.graph.url") for d in dims) else "meta"
        self.jobs[job_id] = {"kind": kind, "body": body, "polls": 0, "status": "CREATED",
                             "project": (payload["username"], payload["project"]), "user": self.user(request),
                             "created": datetime.now(timezone.utc).isoformat()}
        if self.lose_job_answers > 0:  # the job exists, but its answer never arrives
            self.lose_job_answers -= 1
            return await self.lose_answer(request)
        # 201 with job_id, job_url (a path), job_status CREATED (openapi createJob; spec botify.md).
        return web.json_response(self.job_json(job_id, self.jobs[job_id]), status=201)

    async def lose_answer(self, request):
        if self.lost_answer == "503":
            return error(503, "1000", "Unknown error")
        if self.lost_answer == "hang":  # longer than a test client's timeout, short enough for a quick shutdown
            await asyncio.sleep(2)
        request.transport.close()
        return web.Response(status=201)

    async def list_jobs(self, request):
        # GET /jobs with page, size, job_type, project filters, paginated (openapi getJobs); newest first.
        q = request.query
        found = [(i, j) for i, j in sorted(self.jobs.items(), reverse=True)
                 if (not q.get("project") or j["project"][1] == q["project"]) and j["user"] == self.user(request)
                 and q.get("job_type", "export") == "export"]
        page, size = int(q.get("page", 1)), min(int(q.get("size", 50)), self.page_size_cap)
        chunk = found[(page - 1) * size: page * size]
        more = page * size < len(found)
        return web.json_response({"count": len(found), "page": page, "size": size,
                                  "results": [self.job_json(i, j) for i, j in chunk], "previous": None,
                                  "next": f"{self.url}/v1/jobs?{urlencode({**q, 'page': page + 1, 'size': size})}"
                                  if more else None})

    async def job(self, request):
        job_id = int(request.match_info["job_id"])
        job = self.jobs.get(job_id)
        if job is None or job["kind"] in self.vanish_kinds:
            return error(404, "1059", "Advanced export was not found")  # code 1059 (developers-docs error-codes.md)
        job["polls"] += 1
        # CREATED, PROCESSING, then DONE with results.download_url or FAILED with an error (spec botify.md).
        if job["polls"] >= self.polls_to_done and job["status"] not in ("DONE", "FAILED"):
            if job["kind"] in self.fail_kinds:
                job.update(status="FAILED", error={"error_code": "1060", "message": "The export failed"})
            else:
                job.update(status="DONE", done_at=time.time(), results={
                    "download_url": f"{self.url}/files/{job_id}.csv.gz", "nb_lines": self.rows(job)})
        elif job["polls"] > 1 and job["status"] == "CREATED":
            job["status"] = "PROCESSING"
        answer = self.job_json(job_id, job)
        if job.get("error"):
            answer["error"] = job["error"]
        return web.json_response(answer)

    def rows(self, job) -> int:
        proj = self.projects[job["project"]]
        return proj.links_rows if job["kind"] == "links" else proj.meta_rows

    def file_for(self, job_id: int) -> bytes:
        if job_id not in self._files:
            job = self.jobs[job_id]
            payload = job["body"]["payload"]
            query = payload["query"]["query"]
            dims, metrics = query["dimensions"], query["metrics"]
            config = self.echo(payload)["formatter_config"]
            header = self.header_mode == "always" or (self.header_mode == "request" and config["print_header"])
            sep = self.sep_mode == "always" or (self.sep_mode == "request" and config["print_delimiter"])
            rows = (link_rows(self.rows(job)) if job["kind"] == "links"
                    else meta_rows(self.rows(job), dims, metrics))
            self._files[job_id] = csv_gz([verbose_name(c) for c in dims + metrics] if header else None, rows,
                                         self.line_end, sep=sep)
        return self._files[job_id]

    async def download(self, request):
        job_id = int(request.match_info["job_id"])
        job = self.jobs[job_id]
        if self.link_ttl is not None and time.time() > job.get("done_at", 0) + self.link_ttl:
            # A signed storage link past its expiry answers 403 "Request has expired" (AWS S3 presigned URLs).
            return web.Response(status=403, content_type="application/xml",
                                text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
        self.downloads.append(job["kind"])
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
