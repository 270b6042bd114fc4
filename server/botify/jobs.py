"""Background work of the link-graph workflow: the depth search and the two export jobs, resumable from the run."""
from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from loguru import logger

from ..files import remove_stale_parts, storage_problem
from .client import BotifyClient, BotifyError, LinkExpired
from .export import (DEFAULT_SEGMENT, KIND_NAMES, KINDS, catalog, columns, depth_query, file_name, links_payload, meta_payload,
                     optimal_depth, project_dir, readable_date, sc_period, search_done)
from .normalise import download_export
from .projects import clean_project_url
from .token import load_token

ANALYSIS, DEPTH, FIELDS, EXPORT = "step_01", "step_02", "step_03", "step_04"
JOBS = "export"  # the run's record of export jobs: {"key", "links": {...}, "meta": {...}}


@dataclass
class Live:
    """What the cards show while work runs; lost on restart, rebuilt from the run as work resumes."""
    counts: list[int] = field(default_factory=list)
    error: str = ""
    auth: bool = False
    jobs: dict = field(default_factory=dict)  # kind -> {"status", "polls", "since", "received", "total"}


def export_keys(slug: str, depth: int, fields: list[str], segment: str = DEFAULT_SEGMENT) -> dict[str, str]:
    """What each job depends on: after a revert to other answers a job is replaced, otherwise reused."""
    return {"links": f"{slug}|{depth}", "meta": f"{slug}|{','.join(fields)}|{segment}"}


def job_body(run, kind: str, org: str, project: str, name: str, fields=None, segment=None) -> dict:
    """The export job body for one kind, from the run's answers (fields and segment as given, else as stored)."""
    slug, chosen = run.get(ANALYSIS)["slug"], run.get(FIELDS) or {}
    if kind == "links":
        return links_payload(org, project, slug, run.get(DEPTH)["depth"], name)
    found = run.get(DEPTH)
    return meta_payload(org, project, slug, chosen.get("fields", []) if fields is None else fields,
                        segment or chosen.get("segment") or DEFAULT_SEGMENT,
                        found.get("sc_period") or sc_period(slug), name)


def job_name(kind: str, slug: str) -> str:
    """`export_job_name` for a new job: unique, so GET /jobs can tell this job from every other."""
    return f"pipedeck {kind} {slug} {secrets.token_hex(4)}"


class LinkGraphJobs:
    def __init__(self, ctx, workflow: str):
        self.ctx, self.workflow = ctx, workflow
        self.live: dict[str, Live] = {}
        self.tasks: dict[tuple[str, str], asyncio.Task] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def state(self, run_id: str) -> Live:
        return self.live.setdefault(run_id, Live())

    def client(self) -> BotifyClient:
        saved = load_token(self.ctx.cfg.data_dir)
        if not saved:
            raise BotifyError("Connect to Botify first: no token is stored.", 401)
        return BotifyClient(self.ctx.cfg.botify_api_url, saved["token"])

    def running(self, what: str, run_id: str) -> bool:
        task = self.tasks.get((what, run_id))
        return bool(task and not task.done())

    def ensure(self, what: str, run_id: str) -> None:
        """Start the depth search or the export poller for a run unless it runs already or stopped on an error."""
        if self.running(what, run_id) or self.state(run_id).error:
            return
        work = self.search_depth if what == "depth" else self.follow_export
        if what == "depth":
            self.state(run_id).counts = []
        try:
            self.tasks[(what, run_id)] = self.ctx.spawn(self._guard(run_id, work(run_id)))
        except RuntimeError:  # no event loop in this thread: the card's next poll starts it
            pass

    def retry(self, run_id: str) -> None:
        self.state(run_id).error = ""
        self.state(run_id).auth = False

    async def _guard(self, run_id: str, work):
        try:
            await work
        except BotifyError as e:
            self.state(run_id).error, self.state(run_id).auth = str(e), e.auth
            self.ctx.narrate(f"The link-graph work stopped: {e}")
        except asyncio.CancelledError:
            raise
        except OSError as e:
            if not (problem := storage_problem(e)):
                logger.exception("link-graph background work failed for {}", run_id)
                problem = "Something went wrong while saving the export; see the log. Try again."
            self.state(run_id).error = problem
            self.ctx.narrate(f"The link-graph export stopped: {problem}")
        except Exception:
            logger.exception("link-graph background work failed for {}", run_id)
            self.state(run_id).error = "Something went wrong while talking to Botify; see the log. Try again."

    def run(self, run_id: str):
        return self.ctx.runs.get(self.workflow, run_id)

    async def search_depth(self, run_id: str) -> None:
        run = self.run(run_id)
        org, project, _ = clean_project_url(run_id)
        slug = run.get(ANALYSIS)["slug"]
        live = self.state(run_id)
        live.counts = []
        async with self.client() as api:
            found = await self.read_catalog(api, org, project, slug)
            while True:
                live.counts.append(int(await api.aggregate(org, project, depth_query(slug, len(live.counts) + 1))))
                if search_done(live.counts):
                    break
        depth = optimal_depth(live.counts)
        if self.run(run_id).get(ANALYSIS).get("slug") != slug:
            return  # the user picked another analysis meanwhile; its own search stores its answer
        if self.ctx.runs.set_step(self.workflow, run_id, DEPTH, {"depth": depth, "counts": live.counts, **found}):
            self.ctx.narrate(f"Optimal depth for the analysis of {readable_date(slug)}: {depth} "
                             f"({live.counts[depth - 1]:,} links).")

    async def read_catalog(self, api, org: str, project: str, slug: str) -> dict:
        """The fields and segments the analysis's collections have, and the Search Console period (from its dates)."""
        collections = [c for c in await api.collections(org, project) if isinstance(c, dict)]
        console = next((c for c in collections if c.get("id") == "search_console"), None)
        crawl = await api.collection_fields(org, project, f"crawl.{slug}")
        sc = await api.collection_fields(org, project, "search_console") if console else None
        found = {"search_console": console is not None, **catalog(crawl, slug, sc)}
        if console:
            found["sc_period"] = sc_period(slug, console.get("date_start"), console.get("date_end"))
        return found

    async def start_jobs(self, run, fields: list[str], segment: str = DEFAULT_SEGMENT) -> None:
        """Create whichever export job the run does not have yet, storing each job URL the moment it exists.

        The lock makes a double click wait for the first; the stored keys make a resubmit reuse the jobs."""
        async with self.locks.setdefault(run.id, asyncio.Lock()):
            run = self.run(run.id)
            org, project, _ = clean_project_url(run.id)
            slug, depth = run.get(ANALYSIS)["slug"], run.get(DEPTH)["depth"]
            keys = export_keys(slug, depth, fields, segment)
            record = run.data.get(JOBS)
            if record is None:
                self.ctx.runs.set_step(self.workflow, run.id, JOBS, {})
                record = {}
            folder = project_dir(self.ctx.cfg.downloads_dir, org, project)
            async with self.client() as api:
                for kind in KINDS:
                    entry = record.get(kind)
                    same = bool(entry) and entry.get("key") == keys[kind]
                    if same and (entry.get("job_url") or entry.get("file")):
                        continue
                    existing = folder / file_name(project, slug, kind)
                    if entry is None and existing.is_file():  # made before this run: never wait for it again
                        rows = await asyncio.to_thread(count_rows, existing)
                        entry = {"file": {"name": existing.name, "rows": rows, "bytes": existing.stat().st_size}}
                    else:
                        pending = entry.get("pending") if same else None
                        body = job_body(run, kind, org, project, pending or job_name(kind, slug), fields, segment)
                        entry = {"job_url": await self.create_once(api, run.id, kind, keys[kind], body, pending)}
                    entry["key"] = keys[kind]
                    self.ctx.runs.set_step(self.workflow, run.id, f"{JOBS}.{kind}", entry, overwrite=True)

    async def create_once(self, api, run_id: str, kind: str, key: str, body: dict, pending: str | None,
                          history: list | None = None) -> str:
        """Create a job, its name stored first: if the answer is lost, even across a restart, it is found, not redone."""
        if pending and (found := await api.find_job(body)):
            return found
        name = body["payload"]["export_job_name"]
        entry = {"key": key, "pending": name, **({"replaced": history} if history else {})}
        self.ctx.runs.set_step(self.workflow, run_id, f"{JOBS}.{kind}", entry, overwrite=True)
        return await api.start_job(body)

    async def restart_job(self, run_id: str, kind: str) -> None:
        """Replace a job that failed, vanished or whose link expired by a new one (the user asked); the run keeps
        a record of each job replaced and why."""
        async with self.locks.setdefault(run_id, asyncio.Lock()):
            run = self.run(run_id)
            entry = (run.data.get(JOBS) or {}).get(kind) or {}
            if not entry.get("failed"):
                return
            org, project, _ = clean_project_url(run_id)
            history = [*entry.get("replaced", []), {"job_url": entry.get("job_url"), "why": entry.get("why", "failed"),
                                                    "message": entry["failed"], "at": int(time.time())}]
            body = job_body(run, kind, org, project, job_name(kind, run.get(ANALYSIS)["slug"]))
            async with self.client() as api:
                url = await self.create_once(api, run_id, kind, entry.get("key"), body, None, history)
            self.ctx.runs.set_step(self.workflow, run_id, f"{JOBS}.{kind}",
                                   {"key": entry.get("key"), "job_url": url, "replaced": history}, overwrite=True)
            self.state(run_id).jobs.pop(kind, None)
            self.retry(run_id)

    async def follow_export(self, run_id: str) -> None:
        """Poll both jobs until each is done, downloading each file as soon as its job is."""
        interval = self.ctx.cfg.poll_interval
        live = self.state(run_id)
        async with self.client() as api:
            await self.settle_pending(api, run_id)
            while True:
                run = self.run(run_id)
                record = run.data.get(JOBS) or {}
                waiting = [k for k in KINDS if self.unfinished(run, k)]
                if not waiting:
                    break
                for kind in waiting:
                    await self.poll_one(api, run, kind, record[kind], live.jobs.setdefault(kind, {"polls": 0}))
                if any(live.jobs[k].get("status") not in ("SAVED", "FAILED", "LOST") for k in waiting):
                    await asyncio.sleep(interval)
        run = self.run(run_id)
        record = run.data.get(JOBS) or {}
        if all((record.get(k) or {}).get("file") for k in KINDS):
            files = {k: record[k]["file"] for k in KINDS}
            if self.ctx.runs.set_step(self.workflow, run_id, EXPORT, files):
                self.ctx.narrate(f"Link graph ready: {files['links']['rows']:,} links, "
                                 f"{files['meta']['rows']:,} pages of metadata.")

    async def settle_pending(self, api, run_id: str) -> None:
        """A job whose creation was cut short (error, restart) is found by its name, or created then, exactly once."""
        run = self.run(run_id)
        if not run.done(FIELDS):
            return  # the fields card is still open: submitting it again settles the job
        org, project, _ = clean_project_url(run_id)
        for kind, entry in (run.data.get(JOBS) or {}).items():
            if isinstance(entry, dict) and entry.get("pending") and not entry.get("job_url"):
                body = job_body(run, kind, org, project, entry["pending"])
                url = await self.create_once(api, run_id, kind, entry.get("key"), body, entry["pending"],
                                             entry.get("replaced"))
                self.ctx.runs.set_step(self.workflow, run_id, f"{JOBS}.{kind}", {**entry, "job_url": url},
                                       overwrite=True)

    def final_path(self, run, kind: str):
        org, project, _ = clean_project_url(run.id)
        folder = project_dir(self.ctx.cfg.downloads_dir, org, project)
        return folder / file_name(project, run.get(ANALYSIS)["slug"], kind)

    def unfinished(self, run, kind: str) -> bool:
        """A job to follow: not failed, and its file not saved (or saved, then deleted from the folder)."""
        entry = (run.data.get(JOBS) or {}).get(kind) or {}
        if not entry.get("job_url") or entry.get("failed"):
            return False
        return not entry.get("file") or not self.final_path(run, kind).is_file()

    def store_entry(self, run_id: str, kind: str, entry: dict, job_url: str) -> None:
        """Update a job's record unless a revert replaced the job meanwhile."""
        current = (self.run(run_id).data.get(JOBS) or {}).get(kind) or {}
        if current.get("job_url") == job_url:
            self.ctx.runs.set_step(self.workflow, run_id, f"{JOBS}.{kind}", entry, overwrite=True)

    def lose(self, run, kind: str, entry: dict, live: dict, why: str, message: str) -> None:
        """A job that cannot give its file any more: say so in the run, so the card offers a new export."""
        live.update(status="LOST", received=0, total=None)
        self.store_entry(run.id, kind, {**entry, "failed": message, "why": why}, entry["job_url"])
        self.ctx.narrate(message)

    async def poll_one(self, api, run, kind: str, entry: dict, live: dict) -> None:
        try:
            answer = await api.job(entry["job_url"])
        except BotifyError as e:
            if not e.gone:
                raise
            return self.lose(run, kind, entry, live, "vanished", f"Botify no longer has the {said(kind)} export job "
                             "(it may have expired or been deleted). Start a new export to get the file.")
        status = str(answer.get("job_status", "")).upper()
        live["status"], live["polls"] = status, live.get("polls", 0) + 1
        live.setdefault("since", time.time())
        if status == "FAILED":
            error = answer.get("error") or {}
            reason = error.get("message") if isinstance(error, dict) else str(error)
            message = f"Botify could not make the {said(kind)} export" + (f": “{reason}”." if reason else ".")
            self.lose(run, kind, entry, live, "failed", message)
            live["status"] = "FAILED"
        elif status == "DONE":
            url = (answer.get("results") or {}).get("download_url")
            if not url:
                raise BotifyError(f"Botify finished the {said(kind)} export but gave no download address.")
            try:
                await self.download(api, run, kind, entry, live, url)
            except LinkExpired as e:
                self.lose(run, kind, entry, live, "expired", f"The {said(kind)} export's download link has expired. "
                          "Start a new export to get a fresh file.")
                logger.info("download link expired: {}", e)
            except BaseException:
                live.update(status="STOPPED", received=0, total=None)  # never left showing a download at 100 %
                raise

    async def download(self, api, run, kind: str, entry: dict, live: dict, url: str) -> None:
        final = self.final_path(run, kind)
        live.update(status="DOWNLOADING", received=0, total=None)

        def progress(received, total):
            live["received"], live["total"] = received, total

        written = await download_export(api.stream(url), final, columns(kind, run.get(FIELDS).get("fields", [])),
                                        progress)
        live["status"] = "SAVED"
        info = {"name": final.name, "rows": written.rows, "bytes": written.bytes}
        self.store_entry(run.id, kind, {**entry, "file": info}, entry["job_url"])
        self.ctx.narrate(f"Saved {final.name}: {written.rows:,} rows.")

    async def resume_all(self) -> None:
        """At start-up: clear half-written files, then follow every run whose export is unfinished."""
        if (self.ctx.cfg.downloads_dir / "link-graph").is_dir():
            remove_stale_parts(self.ctx.cfg.downloads_dir / "link-graph")
        if not load_token(self.ctx.cfg.data_dir):
            return
        rows = self.ctx.db.query(
            "SELECT id FROM pipeline WHERE workflow = ? AND json_extract(data, '$.export') IS NOT NULL "
            "AND json_extract(data, '$.step_04') IS NULL", [self.workflow])
        for row in rows:
            self.ensure("export", row["id"])


def said(kind: str) -> str:
    return KIND_NAMES[kind].lower()


def count_rows(path) -> int:
    """Data rows of a normalised CSV (newlines after the header)."""
    rows, last = -1, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            rows += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, rows + (last != b"\n"))
