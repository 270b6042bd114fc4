"""What the insights and comparison screens show: figures, tables of pages, the charts' data and the forms."""
from __future__ import annotations

import json

from fasthtml.common import (H2, H3, A, Button, Canvas, Div, Form, Label, Li, Link, Option, P, Script, Section,
                             Select, Small, Span, Table, Tbody, Td, Th, Thead, Tr, Ul)

from ..engine.cards import message_card

ASSETS = (Link(rel="stylesheet", href="/static/insights.css"), Script(src="/static/vendor/chart.umd.min.js"),
          Script(src="/static/insights.js"))


def share(value: float) -> str:
    return f"{value * 100:.3g} %"


def figure(label: str, value, note=None):
    return Div(Span(f"{value:,}" if isinstance(value, int) else value, cls="figure-value"), Small(label),
               note, cls="figure")


def figures(header: dict):
    orphans = header.get("orphans")
    return Div(figure("pages", header["nodes"]), figure("links", header["edges"]),
               figure("orphan pages", orphans if orphans is not None else "—"),
               figure("dead ends", header.get("dead_ends", 0)), cls="figures")


def page_link(url: str):
    if url.startswith(("http://", "https://")):
        return A(url, href=url, target="_blank", rel="noopener", cls="page-url")
    return Span(url, cls="page-url")


def pages_table(rows: list[dict], extra: str | None, cls: str):
    head = [Th("Rank"), Th("Page"), Th("PageRank"), Th("Inlinks"), Th("Outlinks")] + ([Th(extra)] if extra else [])
    body = [Tr(Td(f"{r['rank']:,}"), Td(page_link(r["url"])), Td(share(r["pagerank"])), Td(f"{r['inbound']:,}"),
               Td(f"{r['outbound']:,}"), *([Td(str(r.get(extra) or "—"))] if extra else [])) for r in rows]
    return Div(Table(Thead(Tr(*head)), Tbody(*body), cls=f"striped {cls}"), cls="table-wrap")


def orphans_section(header: dict, count: int, rows: list[dict], csv_url: str | None, meta_name: str):
    title = H2("Orphan pages")
    if header.get("orphans") is None:
        return Section(title, P(f"Orphan pages are pages in the metadata that no link reaches; this graph has no "
                                f"metadata file ({meta_name}), so they cannot be found. Export metadata from the "
                                "Link graph workflow to add it."), id="orphans")
    if not count:
        return Section(title, P("None: every page in the metadata is reached by at least one link."), id="orphans")
    more = f" The first {len(rows):,} are listed; the CSV has them all." if count > len(rows) else ""
    return Section(title, P(f"{count:,} pages are in the metadata but no link reaches them.{more} ",
                            A("Orphan pages (CSV)", href=csv_url, download=True, cls="orphans-csv")),
                   Div(Ul(*[Li(page_link(r["url"])) for r in rows], cls="orphan-list"), cls="table-wrap"),
                   id="orphans")


def breakdown_section(base: str, columns: list[dict], data: dict | None):
    title = H2("PageRank and inlinks by page type")
    if data is None:
        return Section(title, P("The metadata has no column to group pages by (such as pagetype), so PageRank "
                                "cannot be broken down."), id="breakdown")
    chooser = Form(Label("Group pages by", Select(
        *[Option(c["name"], value=c["name"], selected=c["name"] == data["column"]) for c in columns],
        name="by", id="insights-by")), hx_get=f"{base}/insights/breakdown", hx_trigger="change", hx_target="#charts",
        hx_swap="outerHTML", cls="insights-by")
    names = [c["name"] for c in columns]
    note = None if "pagetype" in names else P(f"The metadata has no pagetype column, so pages are grouped by "
                                               f"“{data['column']}”; choose another column below.", cls="muted")
    return Section(title, note, chooser, charts(data), id="breakdown")


def charts(data: dict):
    """Both charts' data as an attribute: htmx drops script elements it swaps in, insights.js draws them."""
    rows = [Tr(Td(label), Td(f"{pages:,}"), Td(share(s))) for label, pages, s in
            zip(data["labels"], data["pages"], data["share"])]
    return Div(
        Div(Div(H3("PageRank share"), Canvas(id="chart-share", role="img", aria_label="PageRank share by group"),
                cls="chart"),
            Div(H3("Inlinks distribution"), Canvas(id="chart-inlinks", role="img",
                                                   aria_label="Pages by number of inlinks, by group"), cls="chart"),
            cls="chart-row"),
        breakdown_table(data["column"], rows),
        id="charts", cls="charts", data_chart=json.dumps(data))


def breakdown_table(column: str, rows):
    return Div(Table(Thead(Tr(Th(column), Th("Pages"), Th("PageRank share"))), Tbody(*rows), cls="striped"),
               cls="table-wrap")


def dead_ends_section(count: int, rows: list[dict], extra: str | None):
    title = H2("Dead ends")
    if not count:
        return Section(title, P("None: every page links to at least one other page."), id="dead-ends")
    return Section(title, P(f"{count:,} pages link to no other page. The ones with the most PageRank first:"),
                   pages_table(rows, extra, "dead-ends"), id="dead-ends")


def compare_form(base: str, slug: str, others: list[str]):
    if not others:
        return P("Download another analysis of this project to compare the two.", cls="muted")
    return Form(Label("Compare with", Select(*[Option(s, value=s) for s in others], name="other")),
                Button("Compare", type="submit"), action=f"{base}/compare", method="get", cls="compare-form")


def insights_body(ctx: dict):
    """The screen's content; `ctx` holds what apps/insights.py gathered."""
    header = ctx["header"]
    if header["nodes"] == 0:
        return Div(message_card("This graph has no links", f"{ctx['links_name']} has no rows with both a source "
                                "and a target URL, so there are no pages to rank."), id="graph-body")
    return Div(
        figures(header),
        P(A("Open the graph", href=ctx["viewer"]), " · ", A("All pages with PageRank (CSV)", href=ctx["pages_csv"],
                                                          download=True, cls="pages-csv"), cls="insights-links"),
        Section(H2("Top pages by PageRank"), pages_table(ctx["top"], ctx["extra"], "top-pages"), id="top"),
        breakdown_section(ctx["base"], ctx["columns"], ctx["breakdown"]),
        orphans_section(header, *ctx["orphans"], ctx["orphans_csv"], ctx["meta_name"]),
        dead_ends_section(header.get("dead_ends", 0), ctx["dead"], ctx["extra"]),
        Section(H2("Compare with another analysis"), compare_form(ctx["base"], ctx["slug"], ctx["others"]),
                id="compare"),
        id="graph-body", cls="insights")


def change_list(title: str, urls: list[str], total: int):
    more = P(Small(f"The first {len(urls):,} of {total:,}; the CSV has them all.")) if total > len(urls) else None
    return Div(H3(f"{title} ({total:,})"), Ul(*[Li(page_link(u)) for u in urls]) if urls else P("None."), more)


def movers_table(title: str, rows: list[dict], cls: str):
    body = [Tr(Td(page_link(r["url"])), Td(share(r["before"])), Td(share(r["after"])),
               Td(f"{r['change'] * 100:+.3g} pts")) for r in rows]
    return Div(H3(title), Div(Table(Thead(Tr(Th("Page"), Th("Before"), Th("After"), Th("Change"))), Tbody(*body),
                                    cls=f"striped {cls}"), cls="table-wrap") if rows else P("None."))


def compare_body(summary: dict, slug_a: str, slug_b: str, csv_url: str, back: str):
    s = summary
    return Div(
        Div(figure(f"pages ({slug_a} → {slug_b})", f"{s['pages_a']:,} → {s['pages_b']:,}"),
            figure(f"links ({slug_a} → {slug_b})", f"{s['links_a']:,} → {s['links_b']:,}"),
            figure("links added", s["links_added"]), figure("links removed", s["links_removed"]), cls="figures"),
        P(A("Back to the insights", href=back), " · ", A("Every change (CSV)", href=csv_url, download=True,
                                                        cls="changes-csv"), cls="insights-links"),
        Div(change_list("Pages added", s["added"], s["pages_added"]),
            change_list("Pages removed", s["removed"], s["pages_removed"]), cls="chart-row"),
        movers_table("Largest PageRank gains", s["gains"], "gains"),
        movers_table("Largest PageRank losses", s["losses"], "losses"),
        id="graph-body", cls="insights compare")
