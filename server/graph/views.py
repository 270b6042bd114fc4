"""What the graph screens show: the list of graphs, the converting card, the viewer and a node's details."""
from __future__ import annotations

import json
import math
from datetime import datetime

from fasthtml.common import (H1, A, Button, Details, Div, Form, Input, Label, Link, Ol, Option, P, Script, Select,
                             Small, Span, Strong, Summary, Table, Tbody, Td, Th, Thead, Tr)

from ..engine.cards import message_card
from ..files import human_size
from ..ft import EMPTY
from .catalog import GraphEntry

# Loaded by the viewer page only: the WebGL library is 360 KB that no other screen needs.
ASSETS = (Link(rel="stylesheet", href="/static/graph.css"), Script(src="/static/vendor/cosmos.min.js"),
          Script(src="/static/graph.js"))
PREFERRED_COLOUR = "pagetype"
NUMBER_SIZES = ("impressions", "clicks")


def graph_list(entries: list[GraphEntry], downloads_hint: str):
    if not entries:
        return message_card("No link graphs yet",
                            "Graphs appear here when the Link graph workflow has downloaded them into "
                            f"{downloads_hint}.",
                            A("Open the Link graph workflow", href="/linkgraph"))
    rows = [Tr(Td(A(f"{e.project} · {e.slug}", href=e.url, cls="graph-open")),
               Td(A("PageRank", href=e.insights, cls="graph-insights",
                    title="PageRank, orphan pages, dead ends and changes")), Td(e.org),
               Td("links and metadata" if e.has_meta else "links only"), Td(human_size(e.size)),
               Td(datetime.fromtimestamp(e.modified).strftime("%Y-%m-%d %H:%M")))
            for e in entries]
    return Table(Thead(Tr(Th("Graph"), Th("Insights"), Th("Organisation"), Th("Files"), Th("Links file"),
                          Th("Downloaded"))),
                 Tbody(*rows), cls="graph-list striped")


def converting_card(base: str):
    """Shown while the worker thread converts; polls until the viewer (or an error) replaces it."""
    return Div(message_card("Preparing the graph…",
                            "Pipedeck is turning the CSV files into a compact form it can draw. This happens once per "
                            "file; large graphs take a few seconds.", Div(aria_busy="true")),
               hx_get=f"{base}/status", hx_trigger="load delay:700ms", hx_swap="outerHTML",
               id="graph-body", cls="graph-converting")


def failed_card(message: str):
    return Div(message_card("This graph could not be read", message,
                            "The CSV file was left as it is. Download it again from the Link graph workflow.",
                            cls="card-error"), id="graph-body")


def stats_line(header: dict, base: str):
    parts = [f"{header['nodes']:,} pages", f"{header['edges']:,} links"]
    dropped = [(header.get("duplicates", 0), "duplicate links"), (header.get("self_links", 0), "self-links"),
               (header.get("blank", 0) + header.get("malformed", 0), "unreadable rows")]
    note = ", ".join(f"{n:,} {what}" for n, what in dropped if n)
    return P(" · ".join(parts), Small(f" (left out: {note})") if note else None, " · ",
             A("Insights: PageRank, orphans, dead ends", href=base + "/insights", cls="graph-to-insights"),
             cls="graph-stats")


def meta_note(header: dict, meta_name: str):
    if not header.get("has_meta"):
        return P(f"No metadata file ({meta_name}): pages are sized by inbound links and cannot be coloured by page "
                 "type. Export metadata from the Link graph workflow to add it.", cls="graph-missing")
    if not header.get("columns"):
        return P(f"The metadata file ({meta_name}) has no columns besides the URL.", cls="graph-missing")
    return None


def viewer_config(base: str, header: dict, table) -> dict:
    from . import nodes  # already loaded by whoever built `table`; a module-level import would load pyarrow at start

    columns = []
    for c in header.get("columns", []):
        entry = {"name": c["name"], "kind": c["kind"]}
        if c["kind"] == "category":
            cats = nodes.categories(table, c["name"])
            entry["categories"] = cats[:nodes.MAX_CATEGORIES]
            entry["other"] = sum(x["count"] for x in cats[nodes.MAX_CATEGORIES:])
        columns.append(entry)
    names = [c["name"] for c in columns]
    colour = PREFERRED_COLOUR if PREFERRED_COLOUR in names else next(
        (c["name"] for c in columns if c["kind"] == "category"), "")
    sizes = ["pagerank", "inbound"] + [c["name"] for c in columns
                                       if c["kind"] == "number" and c["name"] in NUMBER_SIZES]
    return {"base": base, "nodes": header["nodes"], "edges": header["edges"], "columns": columns,
            "colour": colour, "size": "pagerank", "sizes": sizes}


def controls(config: dict):
    colour_options = [Option("nothing (one colour)", value=EMPTY, selected=not config["colour"])]
    colour_options += [Option(c["name"], value=c["name"], selected=c["name"] == config["colour"])
                       for c in config["columns"]]
    size_labels = {"inbound": "inbound links", "pagerank": "PageRank"}
    return Div(
        Form(Input(type="search", name="q", placeholder="Search a URL", aria_label="Search a URL", id="graph-q",
                   autocomplete="off"),
             Button("Find", type="submit"), role="group", id="graph-search"),
        Label("Colour by", Select(*colour_options, id="graph-colour", name="colour")),
        Label("Size by", Select(*[Option(size_labels.get(s, s), value=s, selected=s == config["size"])
                                  for s in config["sizes"]], id="graph-size", name="size")),
        Div(Button("Fit", id="graph-fit", cls="secondary", type="button"),
            Button("+", id="graph-zoom-in", cls="secondary", type="button", aria_label="Zoom in"),
            Button("−", id="graph-zoom-out", cls="secondary", type="button", aria_label="Zoom out"),
            Button("Pause layout", id="graph-pause", cls="secondary", type="button"),
            Button("Show links", id="graph-links", cls="secondary", type="button"),
            Button("Save PNG", id="graph-save", type="button"), role="group", cls="graph-buttons"),
        cls="graph-controls")


def webgl_missing(base: str):
    """Shown instead of the canvas by graph.js when this browser cannot draw WebGL at all."""
    return Div(P(Strong("This window cannot draw the graph."), " Drawing it needs WebGL, which this browser or "
                 "graphics driver does not offer. Open the graph in your usual web browser instead; the insights "
                 "(PageRank, orphan pages, dead ends) work here as they are."),
               P(A("Open in your browser", href=base, target="_blank", rel="noopener", role="button",
                   cls="open-outside"), " ", A("Insights", href=base + "/insights", role="button", cls="secondary")),
               id="graph-nowebgl", cls="graph-nowebgl", hidden=True)


def viewer(base: str, header: dict, table, links_name: str, meta_name: str):
    if header["nodes"] == 0:
        return Div(stats_line(header, base), message_card(
            "This graph has no links", f"{links_name} has no rows with both a source and a target URL, so there is "
            "nothing to draw. Download it again from the Link graph workflow if that is unexpected."), id="graph-body")
    config = viewer_config(base, header, table)
    return Div(
        stats_line(header, base), meta_note(header, meta_name), controls(config), webgl_missing(base),
        Div(Div(id="graph-canvas", cls="graph-canvas"),
            Div(Div(id="graph-legend", cls="graph-legend", aria_label="Legend"),
                Ol(id="graph-hits", cls="graph-hits", aria_label="Pages found", hidden=True),
                Div(Small("Click a page to see its details. Drag to pan, scroll to zoom."), id="graph-node",
                    cls="graph-node", aria_live="polite"),
                cls="graph-panel"),
            cls="graph-stage"),
        P(id="graph-status", cls="graph-status", role="status"),
        # Config as an attribute, not an inline script: htmx drops script elements it swaps in.
        id="graph-body", cls="graph-view", data_state="loading", data_config=json.dumps(config))


def fmt_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if math.isfinite(value) and value == int(value) else f"{value:,.2f}"
    return str(value)


def node_card(node: dict, index: int, pages: int):
    meta = [(k, v) for k, v in node.items() if k not in ("url", "inbound", "outbound", "pagerank", "rank")]
    url = node["url"]
    link = A(url, href=url, target="_blank", rel="noopener", cls="node-url") if url.startswith(
        ("http://", "https://")) else Span(url, cls="node-url")
    return Div(
        P(link),
        Table(Tbody(Tr(Th("PageRank"), Td(f"{node['pagerank'] * 100:.3g} %", cls="node-pagerank")),
                    Tr(Th("Rank"), Td(f"{node['rank']:,} of {pages:,}", cls="node-rank")),
                    Tr(Th("Inbound links"), Td(f"{node['inbound']:,}", cls="node-in")),
                    Tr(Th("Outbound links"), Td(f"{node['outbound']:,}", cls="node-out")),
                    *[Tr(Th(k), Td(fmt_value(v))) for k, v in meta])),
        None if meta else Small("No metadata for this page."),
        data_node=str(index), cls="node-card")


def viewer_title(org: str, project: str, slug: str):
    return H1(f"{project} · {slug}", Small(f" {org}", cls="muted"))


def help_details():
    return Details(Summary("How to use the graph"), P(
        "Colours follow the chosen metadata column (page type when the metadata file has it); the legend lists "
        "the most common values. Node size follows internal PageRank, or inbound links or Search Console impressions. "
        "Pause the layout to keep the picture still; Save PNG writes the current view into the downloads folder."))
