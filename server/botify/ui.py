"""Pieces of the Botify screens: the connect form, file lists with download and graph links, job progress."""
from __future__ import annotations

from urllib.parse import quote

import time

from fasthtml.common import (A, Button, Div, Form, Input, Label, Li, P, Progress, Small, Span, Strong, Table, Tbody,
                             Td, Th, Thead, Tr, Ul)

from ..files import human_size
from ..graph.catalog import insights_url, viewer_url
from .export import KIND_NAMES, KINDS, analysis_label, local_label

TOKEN_HELP = ("Your API token is in your Botify profile settings, https://app.botify.com/account, under "
              "“API Auth Token”. No such section there means the API is not enabled for your account yet.")


def connect_form(error: str | None = None, pipeline_id: str = "", step: str = "", target: str = "#botify-connect"):
    """Paste a token; `pipeline_id` set means the form sits in a workflow card (`step`), which then carries on."""
    return Form(
        P(TOKEN_HELP, cls="hint"),
        Label("Botify API token", fr="botify-token"),
        Div(Input(type="password", name="token", id="botify-token", required=True, autocomplete="off",
                  aria_invalid="true" if error else None),
            Button("Connect", type="submit"), role="group"),
        Small(error, cls="error", role="alert") if error else None,
        Input(type="hidden", name="pipeline_id", value=pipeline_id) if pipeline_id else None,
        Input(type="hidden", name="step", value=step) if step else None,
        hx_post="/botify/connect", hx_target=target, hx_swap="outerHTML", action="/botify/connect", method="post",
        cls="botify-connect-form")


def download_url(org: str, project: str, name: str) -> str:
    return f"/download/{quote(org)}/{quote(project)}/{quote(name)}"


def file_links(org: str, project: str, slug: str, kinds: dict):
    """Download links for the files of one analysis, and the graph view when the links file exists."""
    links = [A(f"Download {kind}", href=download_url(org, project, path.name), download=path.name, cls="download")
             for kind, path in sorted(kinds.items())]
    if "links" in kinds:
        links.append(A("View graph", href=viewer_url(org, project, slug), cls="view-graph"))
    return Span(*links, cls="file-links")


def existing_downloads(org: str, project: str, local: dict):
    if not local:
        return P("Nothing downloaded for this project yet.", cls="existing none")
    items = [Li(Strong(analysis_label(slug)), " — ", local_label(kinds), " ", file_links(org, project, slug, kinds))
             for slug, kinds in sorted(local.items(), reverse=True)]
    return Div(Small("Already downloaded for this project:"), Ul(*items), cls="existing")


def open_folder_button(org: str, project: str):
    return Button("Open folder", type="button", cls="outline secondary", data_open_folder=f"link-graph/{org}/{project}")


def files_table(org: str, project: str, slug: str, files: dict):
    """The final card's files: name, rows, size and a download link each, then the graph and the folder."""
    rows = [Tr(Td(KIND_NAMES.get(kind, kind)), Td(A(info["name"], href=download_url(org, project, info["name"]), download=info["name"])),
               Td(f"{info['rows']:,}", cls="rows"), Td(human_size(info["bytes"]), cls="size"))
            for kind, info in files.items()]
    return Div(Table(Thead(Tr(Th("File"), Th("Name"), Th("Rows"), Th("Size"))), Tbody(*rows), cls="export-files"),
               Div(A("View graph", href=viewer_url(org, project, slug), role="button", cls="view-graph"),
                   A("Insights", href=insights_url(org, project, slug), role="button", cls="secondary insights"),
                   open_folder_button(org, project), cls="actions"))


# Botify's job states (job API: CREATED, PROCESSING, DONE, FAILED) and ours, in words, with their step of three.
STATES = {"CREATED": ("queued at Botify", 1), "PROCESSING": ("Botify is preparing the file", 2),
          "DONE": ("ready at Botify", 3), "": ("asking Botify", 1)}


def waited(since: float | None) -> str:
    if not since:
        return ""
    seconds = int(time.time() - since)
    return f", waiting {seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f", waiting {seconds} s"


def job_line(kind: str, entry: dict, live: dict):
    """One export job's state in words, with its progress: queued, being prepared, downloading, saved, or lost."""
    name = Strong(KIND_NAMES.get(kind, kind))
    if entry.get("file"):
        info = entry["file"]
        return Li(name, f": saved — {info['rows']:,} rows, {human_size(info['bytes'])}", cls="job saved")
    if entry.get("failed"):
        return Li(name, ": ", entry["failed"], cls="job failed")
    status = live.get("status") or ""
    if status == "DOWNLOADING":
        got, total = live.get("received", 0), live.get("total")
        share = f" of {human_size(total)}" if total else ""
        return Li(Div(name, f": step 3 of 3, downloading {human_size(got)}{share}"),
                  Progress(value=str(got), max=str(total)) if total else Progress(), cls="job downloading")
    if status == "STOPPED":
        return Li(name, ": the download stopped before the file was complete; nothing half-written was kept.",
                  cls="job stopped")
    words, step = STATES.get(status, (status.lower(), 2))
    # No aria-busy here: Pico keeps busy elements on one line, which would push the text out of the card.
    return Li(Div(name, f": step {step} of 3, {words}{waited(live.get('since'))}"), Progress(), cls="job waiting")


def job_lines(record: dict, live: dict):
    """Both export jobs' states, as the files card shows them while it works."""
    return Ul(*[job_line(kind, record.get(kind) or {}, live.get(kind, {})) for kind in KINDS], cls="jobs")


def depth_counts(counts: list[int]):
    return Ul(*[Li(f"Depth {d}: {n:,} links") for d, n in enumerate(counts, start=1)], cls="depth-counts")
