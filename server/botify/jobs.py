"""Background work of the link-graph workflow: the depth search and the two export jobs, resumable from the run."""
from __future__ import annotations

import asyncio
import secrets
import time
from contextlib import asynccontextmanager

from loguru import logger

from ..engine import Invalid, Stopped
from ..files import remove_stale_parts, storage_problem
from .client import BotifyClient, BotifyError, LinkExpired
from .export import (DEFAULT_SEGMENT, KIND_NAMES, KINDS, catalog, columns, depth_query, file_name, links_payload, meta_payload,
                     optimal_depth, project_dir, sc_period, search_done)
from .normalise import download_export
from .projects import clean_project_url
from .token import load_token
from .ui import depth_counts, job_lines

ANALYSIS, DEPTH, FIELDS, EXPORT = "analysis", "depth", "fields", "files"  # the steps: each is its field's name
JOBS = "jobs"  # the run's record of export jobs: {"links": {...}, "meta": {...}}, each stored as it changes


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
    """The Botify side of the link-graph workflow's background steps; the engine runs, resumes and stores them."""

    def __init__(self, ctx, workflow: str):
        self.ctx, self.workflow = ctx, workflow
        self.locks: dict[str, asyncio.Lock] = {}

    def client(self) -> BotifyClient:
        saved = load_token(self.ctx.cfg.data_dir)
        if not saved:
            raise BotifyError("Connect to Botify first: no token is stored.", 401)
        return BotifyClient(self.ctx.cfg.botify_api_url, saved["token"])

    @asynccontextmanager
    async def talking(self, what: str):
        """Botify's and the disk's errors as messages for the card (Invalid: the card offers Try again)."""
        try:
            yield
        except BotifyError as e:
            self.ctx.narrate(f"The link-graph work stopped: {e}")
            raise Invalid(str(e)) from None
        except OSError as e:
            if not (problem := storage_problem(e)):
                logger.exception("link-graph {} failed", what)
                problem = "Something went wrong while saving the export; see the log. Try again."
            self.ctx.narrate(f"The link-graph export stopped: {problem}")
            raise Invalid(problem) from None

    def run(self, run_id: str):
        return self.ctx.runs.get(self.workflow, run_id)

    async def search_depth(self, run, progress) -> dict:
        """The depth step's value: link counts depth by depth (shown as they come), the optimal depth, the catalog."""
        org, project, _ = clean_project_url(run.id)
        slug, counts = run[ANALYSIS]["slug"], []
        async with self.talking("depth search"), self.client() as api:
            found = await self.read_catalog(api, org, project, slug)
            while True:
                counts.append(int(await api.aggregate(org, project, depth_query(slug, len(counts) + 1))))
                progress(depth_counts(counts))
                if search_done(counts):
                    break
        return {"depth": optimal_depth(counts), "counts": counts, **found}

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

    async def follow_export(self, run, progress) -> dict:
        """The files step's value: poll both jobs until each is done, downloading each file as soon as its job is."""
        interval, live = self.ctx.cfg.poll_interval, {}  # kind -> {"status", "polls", "since", "received", "total"}
        show = lambda run: progress(job_lines(run.get(JOBS) or {}, live))  # noqa: E731 (one line, used thrice)
        try:
            async with self.talking("export"), self.client() as api:
                await self.settle_pending(api, run.id)
                while waiting := [k for k in KINDS if self.unfinished(self.run(run.id), k)]:
                    run = self.run(run.id)
                    show(run)
                    for kind in waiting:
                        await self.poll_one(api, run, kind, run[JOBS][kind], live.setdefault(kind, {"polls": 0}),
                                            lambda: show(self.run(run.id)))
                    if any(live[k].get("status") not in ("SAVED", "FAILED", "LOST") for k in waiting):
                        await asyncio.sleep(interval)
        finally:
            show(self.run(run.id))  # the jobs as they stand, also when the work stopped
        record = self.run(run.id).get(JOBS) or {}
        if all((record.get(k) or {}).get("file") for k in KINDS):
            return {k: record[k]["file"] for k in KINDS}
        raise Stopped("")  # a job failed or vanished: the card offers a new export of it

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

    async def poll_one(self, api, run, kind: str, entry: dict, live: dict, refresh=lambda: None) -> None:
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
                await self.download(api, run, kind, entry, live, url, refresh)
            except LinkExpired as e:
                self.lose(run, kind, entry, live, "expired", f"The {said(kind)} export's download link has expired. "
                          "Start a new export to get a fresh file.")
                logger.info("download link expired: {}", e)
            except BaseException:
                live.update(status="STOPPED", received=0, total=None)  # never left showing a download at 100 %
                raise

    async def download(self, api, run, kind: str, entry: dict, live: dict, url: str, refresh) -> None:
        final = self.final_path(run, kind)
        live.update(status="DOWNLOADING", received=0, total=None)

        def progress(received, total):
            live["received"], live["total"] = received, total
            refresh()

        written = await download_export(api.stream(url), final, columns(kind, run.get(FIELDS).get("fields", [])),
                                        progress)
        live["status"] = "SAVED"
        info = {"name": final.name, "rows": written.rows, "bytes": written.bytes}
        self.store_entry(run.id, kind, {**entry, "file": info}, entry["job_url"])
        self.ctx.narrate(f"Saved {final.name}: {written.rows:,} rows.")

    def clean_parts(self) -> None:
        """At start-up: half-written files of an interrupted download go; the engine resumes the export itself."""
        if (self.ctx.cfg.downloads_dir / "link-graph").is_dir():
            remove_stale_parts(self.ctx.cfg.downloads_dir / "link-graph")


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
