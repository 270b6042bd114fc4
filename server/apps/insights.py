"""The insights screen of a link graph (PageRank, orphans, dead ends, breakdowns) and the comparison of two
analyses; registered by apps/graph.py, whose conversions and file lookup it shares."""
from __future__ import annotations

import asyncio

from fasthtml.common import H1, P, Small
from starlette.responses import RedirectResponse

from ..graph import insights_views as iv
from ..graph import views
from ..graph.cache import GraphFiles, cached_header
from ..graph.catalog import compare_url, download_url, insights_url, list_graphs, viewer_url
from ..layout import page

TOP = 25


def gather(org: str, project: str, slug: str, files: GraphFiles, header: dict, others: list[str]) -> dict:
    """Everything the insights screen shows (blocking: reads the cache; call from a worker thread)."""
    from ..graph import insights
    from ..graph.nodes import node_table

    table = node_table(files, header) if header["nodes"] else None
    columns = header.get("columns", [])
    by = insights.default_column(columns)
    extra = by if by and next(c for c in columns if c["name"] == by)["kind"] == "category" else None
    return {
        "header": header, "base": viewer_url(org, project, slug), "slug": slug,
        "viewer": viewer_url(org, project, slug),
        "links_name": files.links.name, "meta_name": files.meta.name, "columns": columns, "extra": extra,
        "pages_csv": download_url(org, project, files.pages),
        "orphans_csv": download_url(org, project, files.orphans), "others": others,
        "top": insights.top_pages(table, TOP, extra) if table is not None else [],
        "dead": insights.dead_ends(table, TOP, extra) if table is not None else [],
        "orphans": insights.orphan_list(files),
        "breakdown": insights.breakdown(table, by, kind_of(columns, by)) if by and table is not None else None,
    }


def kind_of(columns: list[dict], name: str) -> str | None:
    return next((c["kind"] for c in columns if c["name"] == name), None)


def routes(ctx, ar, graphs):
    """The insights and comparison screens, on the graph app's router; `graphs` finds the files (apps/graph.py)."""
    def others(org: str, project: str, slug: str) -> list[str]:
        return [e.slug for e in list_graphs(graphs.downloads)
                if (e.org, e.project) == (org, project) and e.slug != slug]

    async def body(org: str, project: str, slug: str, files: GraphFiles):
        header, waiting = await graphs.ready_or_wait(files, insights_url(org, project, slug))
        if waiting is not None:
            return waiting
        found = await asyncio.to_thread(gather, org, project, slug, files, header, others(org, project, slug))
        return iv.insights_body(found)

    def screen(title: str, org: str, content):
        return page(ctx, title, H1(title, Small(f" {org}", cls="muted")), content, *iv.ASSETS, current="/graph", wide=True)

    @ar("/graph/{org}/{project}/{slug}/insights", methods=["get"])
    async def insights_screen(org: str, project: str, slug: str):
        files = graphs.locate(org, project, slug)
        if files is None:
            return graphs.missing(org, project, slug)
        return screen(f"Insights · {project} · {slug}", org, await body(org, project, slug, files))

    @ar("/graph/{org}/{project}/{slug}/insights/status", methods=["get"])
    async def insights_status(org: str, project: str, slug: str):
        files = graphs.locate(org, project, slug)
        if files is None:
            return views.failed_card("The links file is no longer in the downloads folder.")
        return await body(org, project, slug, files)

    def breakdown_of(files: GraphFiles, by: str):
        from ..graph.insights import breakdown
        from ..graph.nodes import node_table

        header = cached_header(files)
        kind = kind_of(header.get("columns", []), by) if header and header["nodes"] else None
        return iv.charts(breakdown(node_table(files, header), by, kind)) if kind else None

    @ar("/graph/{org}/{project}/{slug}/insights/breakdown", methods=["get"])
    async def insights_breakdown(org: str, project: str, slug: str, by: str = ""):
        files = graphs.locate(org, project, slug)
        chart = await asyncio.to_thread(breakdown_of, files, by) if files else None
        return chart or P(f"This graph has no metadata column “{by}”.", id="charts", cls="graph-missing")

    compare_routes(ctx, ar, graphs)


def compare_routes(ctx, ar, graphs):
    def run(org: str, project: str, a: GraphFiles, b: GraphFiles, slug_b: str, headers: tuple):
        from ..graph.compare import changes_path, compare
        return compare(a, b, slug_b, headers), download_url(org, project, changes_path(a, slug_b))

    async def body(org: str, project: str, slug: str, other: str, a: GraphFiles, b: GraphFiles):
        poll = compare_url(org, project, slug, other)
        ha, waiting = await graphs.ready_or_wait(a, poll)
        hb, waiting_b = await graphs.ready_or_wait(b, poll)
        if waiting or waiting_b:
            return waiting or waiting_b
        summary, csv_url = await asyncio.to_thread(run, org, project, a, b, other, (ha, hb))
        return iv.compare_body(summary, slug, other, csv_url, insights_url(org, project, slug))

    @ar("/graph/{org}/{project}/{slug}/compare", methods=["get"])
    def compare_pick(org: str, project: str, slug: str, other: str = ""):
        return RedirectResponse(compare_url(org, project, slug, other), status_code=303)

    @ar("/graph/{org}/{project}/{slug}/compare/{other}", methods=["get"])
    async def compare_screen(org: str, project: str, slug: str, other: str):
        a, b = graphs.locate(org, project, slug), graphs.locate(org, project, other)
        if a is None or b is None:
            return graphs.missing(org, project, slug if a is None else other)
        content = await body(org, project, slug, other, a, b)
        return page(ctx, f"{project}: {slug} → {other}", H1(f"{project}: {slug} → {other}",
                                                             Small(f" {org}", cls="muted")),
                    content, *iv.ASSETS, current="/graph", wide=True)

    @ar("/graph/{org}/{project}/{slug}/compare/{other}/status", methods=["get"])
    async def compare_status(org: str, project: str, slug: str, other: str):
        a, b = graphs.locate(org, project, slug), graphs.locate(org, project, other)
        if a is None or b is None:
            return views.failed_card("A links file is no longer in the downloads folder.")
        return await body(org, project, slug, other, a, b)
