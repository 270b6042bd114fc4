"""Link graph (Botify): a crawl's internal links and page metadata as two CSV files, resumable card by card.

Steps: pick an analysis, find the optimal depth (live), choose fields and start both export jobs, then follow
the jobs and download each file. Botify calls live in server/botify; this file says what each card shows."""
from __future__ import annotations

from fasthtml.common import (A, Article, Button, Div, Fieldset, Header, HtmxResponseHeaders, Input, Label,
                             Legend, Li, Option, P, Select, Small, Span, Strong, Ul)

from ..botify.client import BotifyError
from ..botify.export import (KIND_NAMES, KINDS, SLUG, analysis_date, analysis_label, default_segment, local_files,
                             local_label, offered_fields, ordered_fields, readable_date)
from ..botify.jobs import ANALYSIS, DEPTH, EXPORT, FIELDS, JOBS, LinkGraphJobs
from ..botify.projects import clean_project_url, project_url, read_candidates
from ..botify.token import load_token
from ..botify.ui import connect_form, existing_downloads, files_table
from ..engine import Background, Invalid, Step, Workflow, action
from ..engine.cards import card_id, error_note, run_vals, wrap
from ..ft import EMPTY


class LinkGraph(Workflow):
    name = "linkgraph"
    title = "Link graph (Botify)"
    description = "Export a crawl's internal link graph and page metadata from Botify as two CSV files."
    order = 30
    id_label = "Botify project URL"
    id_hint = "Paste the project's address as your browser shows it; the same address later resumes its run."
    id_example = "https://app.botify.com/your-org/your-project/"
    steps = [
        Step(ANALYSIS, "Analysis"),
        Background(DEPTH, "Optimal depth", producer="find_depth", resume=True, busy="Counting…"),
        Step(FIELDS, "Fields"),
        Background(EXPORT, "Export", producer="export_files", resume=True, busy="Following the export jobs…"),
    ]

    def __init__(self, ctx):
        super().__init__(ctx)
        self.jobs = LinkGraphJobs(ctx, self.name)
        self.listed: dict[str, list[dict]] = {}  # the last list fetched per run, to check a submitted pick
        ctx.startup.append(self.jobs.clean_parts)

    # The run id is the cleaned project URL.

    def clean_id(self, raw: str) -> str:
        org, project, url = clean_project_url(raw)
        self.ctx.narrate(f"Botify project {org}/{project}.")
        return url

    def body(self, run_id: str = "", error: str | None = None, chain=None):
        return Div(self.id_form(run_id, error), self.candidates_picker(),
                   Div(chain, id=f"{self.name}-chain", cls="chain"), self.runs_list(), id=f"{self.name}-body")

    def candidates_picker(self):
        orgs = read_candidates(self.ctx.cfg.data_dir)
        if not orgs:
            return None
        return Div(Select(Option("Organisation…", value=EMPTY, selected=True, disabled=True),
                          *[Option(org, value=org) for org in orgs], name="org", aria_label="Organisation",
                          hx_get=self.router.projects.to(), hx_target=f"#{self.name}-projects"),
                   Div(id=f"{self.name}-projects"), cls="candidates", role="group")

    def where(self, run):
        org, project, _ = clean_project_url(run.id)
        return org, project

    # Cards.

    def form(self, step: Step, run, value=None, error: str | None = None):
        if not load_token(self.ctx.cfg.data_dir) and not run.done(FIELDS):
            return Article(Header("Connect to Botify"), connect_form(
                pipeline_id=run.id, step=step.id, target=f"#{card_id(self.name, step.id)}"), cls="card card-form")
        if step.id == ANALYSIS:
            return self.analysis_form(step, run, error)
        return self.fields_form(step, run, value, error)

    def analysis_form(self, step, run, error):
        org, project = self.where(run)
        picker = Div(P("Asking Botify for this project's analyses…", aria_busy="true"), cls="analyses",
                     hx_get=self.router.analyses.to(pipeline_id=run.id), hx_trigger="load",
                     hx_target="this", hx_swap="outerHTML")  # not the form's target, which it would inherit
        return self.form_card(step, run, existing_downloads(org, project, self.local(run)), picker,
                         error=error, submit_label="Find the optimal depth ▸")

    def local(self, run) -> dict:
        org, project = self.where(run)
        return local_files(self.ctx.cfg.downloads_dir, org, project)

    async def find_depth(self, run, progress) -> dict:
        return await self.jobs.search_depth(run, progress)

    async def export_files(self, run, progress) -> dict:
        return await self.jobs.follow_export(run, progress)

    def working(self, step, run, job):
        """Below the live counts or job lines: what is being done, a new export for a lost job, a way to reconnect."""
        if step.id == DEPTH:
            label = analysis_label(run[ANALYSIS]["slug"], run[ANALYSIS].get("name", ""))
            intro = Small(f"Counting the internal links of the analysis of {label}, depth by depth "
                          "(at most 1,000,000 links per export).", cls="hint")
        else:
            record = run.get(JOBS) or {}
            intro = Div(*[Button(f"Start a new {KIND_NAMES[kind].lower()} export", cls="secondary restart-job",
                                 hx_post=self.router.restart.to(), hx_vals=run_vals(run.id, kind=kind),
                                 hx_target=f"#{card_id(self.name, EXPORT)}", hx_swap="outerHTML")
                          for kind in KINDS if (record.get(kind) or {}).get("failed")]) or None
        return Div(intro, super().working(step, run, job), self.reconnect(job.error if job else None))

    def fields_form(self, step, run, value, error):
        found, before = run.get(DEPTH), (value or {}).get("fields")  # the columns picked before a revert, if any
        offered = offered_fields(found.get("search_console", False), found.get("offered"))
        boxes = [Div(Label(Input(type="checkbox", name=f"field_{f.short}", value=f.short,
                                 checked=before is None or f.short in before),
                           Strong(f.short), Span(f" — {f.label}", cls="muted")), cls="field-choice")
                 for f in offered]
        return self.form_card(step, run, Fieldset(Legend("Metadata columns"), *boxes),
                         self.segment_picker(found), self.fields_notes(found, offered),
                         Input(type="hidden", name="fields_sent", value="1"), self.reconnect(error),
                         error=error, submit_label="Start export ▸")

    def segment_picker(self, found: dict):
        """Which of the project's segmentations fills the page type column (Botify segments are per project)."""
        segments = found.get("segments") or []
        if not segments or segments == ["pagetype"]:
            return None
        chosen = default_segment(segments)
        return Label("Page type comes from the segmentation",
                     Select(*[Option(s, value=s, selected=s == chosen) for s in segments], name="segment"),
                     cls="segment-choice")

    def fields_notes(self, found: dict, offered):
        notes = []
        if not found.get("search_console"):
            notes.append("This project has no Search Console data, so impressions and clicks are not offered.")
        elif period := found.get("sc_period"):
            notes.append(f"Search Console figures cover {readable_date(period[0].replace('-', ''))} to "
                         f"{readable_date(period[1].replace('-', ''))}, the 30 days up to the crawl that "
                         "Search Console has data for.")
        if found.get("offered") is not None:
            missing = [f.label.lower() for f in offered_fields(found.get("search_console", False))
                       if f not in offered]
            if missing:
                notes.append(f"Not in this analysis, so not offered: {', '.join(missing)}.")
        return Div(*[Small(n, cls="hint") for n in notes]) if notes else None

    def reconnect(self, error: str | None):
        if error and "token" in error:
            return P(A("Connect to Botify again", href="/botify"), cls="reconnect")
        return None

    def summary(self, step: Step, run):
        data = run.get(step.id)
        if step.id == ANALYSIS:
            return P("Analysis of ", Strong(analysis_label(data["slug"], data.get("name", ""))))
        if step.id == DEPTH:
            d, counts = data["depth"], data["counts"]
            return Div(P(Strong(f"Depth {d}"), f": {counts[d - 1]:,} links"),
                       Small(" · ".join(f"depth {i}: {n:,}" for i, n in enumerate(counts, start=1))))
        if step.id == FIELDS:
            segment = f" (page type from the “{data['segment']}” segmentation)" if "pagetype" in data["fields"] \
                and data.get("segment") else ""
            return P("Columns: ", Strong(", ".join(["id", *data["fields"]])), f"{segment}. Both export jobs started.")
        return Ul(*[Li(f"{KIND_NAMES.get(kind, kind)}: {info['rows']:,} rows") for kind, info in data.items()])

    def final(self, run):
        org, project = self.where(run)
        label = analysis_label(run.get(ANALYSIS)["slug"], run.get(ANALYSIS).get("name", ""))
        return Div(P(f"The link graph of {org}/{project} (analysis of {label}) is ready."),
                   files_table(org, project, run.get(ANALYSIS)["slug"], run.get(EXPORT)))

    # Answers.

    async def submit(self, step: Step, form: dict, run) -> dict:
        if step.id == ANALYSIS:
            return await self.pick_analysis(form, run)
        if step.id == FIELDS:
            return await self.choose_fields(form, run)
        raise Invalid("This step fills itself in: wait for it to finish.")

    async def choose_fields(self, form: dict, run) -> dict:
        found = run.get(DEPTH)
        offered = offered_fields(found.get("search_console", False), found.get("offered"))
        fields = ordered_fields(f.short for f in offered if form.get(f"field_{f.short}"))
        if not fields:
            raise Invalid("Tick at least one metadata column: an export without any would give a file of bare URLs.")
        segments = found.get("segments") or []
        segment = str(form.get("segment") or default_segment(segments))
        if segments and segment not in segments:
            raise Invalid(f"This project has no segmentation “{segment[:40]}”; pick one from the list.")
        try:
            await self.jobs.start_jobs(run, fields, segment)
        except BotifyError as e:
            raise Invalid(str(e)) from None
        return {"fields": fields, "segment": segment}

    async def pick_analysis(self, form: dict, run) -> dict:
        slug = str(form.get("slug") or "").strip()
        if not slug:
            raise Invalid("Pick an analysis first.")
        if not SLUG.match(slug):
            raise Invalid(f"“{slug[:40]}” is not a Botify analysis (they look like 20240131 or 20240131-2).")
        analyses = self.listed.get(run.id)
        if analyses is None:
            analyses = await self.fetch_analyses(run)
        found = next((a for a in analyses if a.get("slug") == slug), None)
        if found is None:
            raise Invalid(f"Botify lists no analysis {slug} for this project.")
        if found.get("status") != "success":
            raise Invalid(f"Analysis {slug} is {found.get('status')}: only finished analyses can be exported.")
        if local_label(self.local(run).get(slug, {})) == "links and meta":
            raise Invalid(f"Analysis {slug} is already downloaded: open its files from the list above.")
        return {"slug": slug, "name": found.get("name") or "", "date": analysis_date(slug)}

    async def fetch_analyses(self, run) -> list[dict]:
        org, project = self.where(run)
        try:
            async with self.jobs.client() as api:
                analyses = await api.analyses(org, project)
        except BotifyError as e:
            if e.gone:
                raise Gone(f"Botify has no project {org}/{project} that this token can see. Check the address "
                           "(organisation, then project, as in the Botify app), or pick another project.") from None
            raise Invalid(str(e)) from None
        self.listed[run.id] = analyses
        return analyses

    def on_step_done(self, step: Step, run) -> None:
        picked = run[ANALYSIS]
        label = analysis_label(picked["slug"], picked.get("name", ""))
        if step.id == ANALYSIS:
            self.ctx.narrate(f"Analysis of {label} picked; finding the optimal depth.")
        elif step.id == DEPTH:
            depth = run[DEPTH]["depth"]
            self.ctx.narrate(f"Optimal depth for the analysis of {label}: {depth} "
                             f"({run[DEPTH]['counts'][depth - 1]:,} links).")
        elif step.id == FIELDS:
            self.ctx.narrate("Export jobs started; following them.")
        else:
            files = run[EXPORT]
            self.ctx.narrate(f"Link graph ready: {files['links']['rows']:,} links, "
                             f"{files['meta']['rows']:,} pages of metadata.")

    # Routes beyond the cards.

    @action(f"{ANALYSIS}/analyses")
    async def analyses(self, pipeline_id: str = ""):
        run = self.ctx.runs.get(self.name, pipeline_id)
        if run is None:
            return P("There is no such run: type the project URL above.", cls="error")
        try:
            found = await self.fetch_analyses(run)
        except Invalid as e:
            if getattr(e, "gone", False):
                return self.dead_end(run, str(e))
            return Div(error_note(str(e)), self.reconnect(str(e)),
                       Button("Try again", type="button", cls="secondary", hx_get=self.router.analyses.to(),
                              hx_vals=run_vals(run.id), hx_target="closest .analyses", hx_swap="outerHTML"),
                       cls="analyses")
        return self.analysis_picker(run, found)

    @action(f"{EXPORT}/restart", "post")
    async def restart(self, pipeline_id: str = "", kind: str = ""):
        run = self.ctx.runs.get(self.name, pipeline_id)
        if run is None or kind not in KINDS:
            return P("Nothing to restart here.", cls="error")
        try:
            await self.jobs.restart_job(run.id, kind)
        except BotifyError as e:  # shown in the card, with Try again (which creates the job then, exactly once)
            if job := self.ctx.jobs.get(self.name, run.id, EXPORT):
                job.error, job.stopped = str(e), False
        else:
            self.retry(self.by_id[EXPORT], run)  # follow the new job
        return self.card(self.ctx.runs.get(self.name, run.id), EXPORT)

    @action("id/projects")
    def projects(self, org: str = ""):
        found = read_candidates(self.ctx.cfg.data_dir).get(org, [])
        return Select(Option("Project…", value=EMPTY, selected=True, disabled=True),
                      *[Option(p, value=project_url(org, p)) for p in found], name="pipeline_id",
                      aria_label="Project", hx_post=self.router.init.to(), hx_trigger="change",
                      hx_target=f"#{self.name}-body", hx_swap="outerHTML")

    def analysis_picker(self, run, analyses: list[dict]):
        org, project = self.where(run)
        local = self.local(run)
        if not analyses:
            return self.dead_end(run, f"Botify lists no analyses for {org}/{project} yet: crawl it in Botify first, "
                                 "or pick another project.")
        options = []
        for a in analyses:
            slug, status = a.get("slug", ""), a.get("status", "")
            kinds = local.get(slug, {})
            complete = local_label(kinds) == "links and meta"
            pickable = status == "success" and not complete and SLUG.match(slug)
            note = (f"{status or 'unfinished'} in Botify, so it cannot be exported" if status != "success" else
                    "already downloaded: open it from the list above" if complete else
                    f"{local_label(kinds)} downloaded" if kinds else "not downloaded yet")
            options.append(Li(Label(Input(type="radio", name="slug", value=slug, disabled=not pickable),
                                    Strong(f" {analysis_label(slug, a.get('name', ''))} "), Small(note, cls="local")),
                              cls="analysis" + ("" if pickable else " unpickable")))
        return Fieldset(Legend(f"Analyses of {org}/{project}, newest first"), Ul(*options), cls="analyses")

    def dead_end(self, run, message: str):
        """The analysis card when there is nothing to pick: say why and where to go, with no button that leads nowhere."""
        header = HtmxResponseHeaders(retarget=f"#{card_id(self.name, ANALYSIS)}", reswap="outerHTML")
        # A label focuses the address field when clicked: a way back without any script.
        ways = [Label("Edit the project address", fr=f"{self.name}-pipeline-id", cls="edit-address", role="button")]
        if read_candidates(self.ctx.cfg.data_dir):
            ways.append(Small(" or pick another organisation and project from the lists above."))
        card = Article(Header("Analysis"), error_note(message), P(*ways, cls="way-forward"), cls="card card-form")
        return wrap(self.name, ANALYSIS, card), header

class Gone(Invalid):
    """The project is not there: the card leads elsewhere instead of offering a retry."""

    gone = True

