"""The two link-graph exports: BQL payloads, the optimal depth, and where their files live."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..files import inside

EDGE_LIMIT = 1_000_000
MAX_DEPTH = 9
KINDS = ("links", "meta")
SLUG = re.compile(r"^\d{8}(-[A-Za-z0-9]+)?$")


@dataclass(frozen=True)
class Field:
    short: str
    label: str
    bql: str  # `{slug}` is filled in with the analysis
    metric: bool = False  # a Search Console metric, which needs the `search_console` collection

    def path(self, slug: str) -> str:
        return self.bql.format(slug=slug)


FIELDS = (
    Field("pagetype", "Page type", "crawl.{slug}.segments.pagetype.value"),
    Field("compliant", "Compliant", "crawl.{slug}.compliant.is_compliant"),
    Field("canonical", "Canonical to itself", "crawl.{slug}.canonical.to.equal"),
    Field("sitemap", "In a sitemap", "crawl.{slug}.sitemaps.present"),
    Field("impressions", "Search Console impressions", "search_console.period_0.count_impressions", metric=True),
    Field("clicks", "Search Console clicks", "search_console.period_0.count_clicks", metric=True),
)
BY_SHORT = {f.short: f for f in FIELDS}


def offered_fields(search_console: bool) -> list[Field]:
    return [f for f in FIELDS if search_console or not f.metric]


def analysis_date(slug: str) -> str:
    return f"{slug[:4]}-{slug[4:6]}-{slug[6:8]}"


def depth_filter(slug: str, depth: int) -> dict:
    return {"field": f"crawl.{slug}.depth", "predicate": "lte", "value": depth}


def depth_query(slug: str, depth: int) -> dict:
    """The BQL aggregate counting internal links of pages up to `depth`."""
    return {"collections": [f"crawl.{slug}"],
            "query": {"dimensions": [],
                      "metrics": [{"function": "sum", "args": [f"crawl.{slug}.outlinks_internal.nb.total"]}],
                      "filters": depth_filter(slug, depth)}}


def optimal_depth(counts: list[int], limit: int = EDGE_LIMIT) -> int:
    """The largest depth whose edge count is within the limit (`counts[0]` is depth 1); depth 1 if none is."""
    within = [d for d, n in enumerate(counts, start=1) if n <= limit]
    return max(within) if within else 1


def search_done(counts: list[int], limit: int = EDGE_LIMIT) -> bool:
    """Stop asking at depth 9, when the count stops growing, or once it is over the limit (deeper only grows)."""
    return (len(counts) >= MAX_DEPTH or counts[-1] > limit
            or (len(counts) >= 2 and counts[-1] <= counts[-2]))


def _export(org: str, project: str, query: dict) -> dict:
    return {"job_type": "export",
            "payload": {"username": org, "project": project, "connector": "direct_download", "formatter": "csv",
                        "export_size": EDGE_LIMIT, "query": query}}


def links_payload(org: str, project: str, slug: str, depth: int) -> dict:
    return _export(org, project, {
        "collections": [f"crawl.{slug}"],
        "query": {"dimensions": ["url", f"crawl.{slug}.outlinks_internal.graph.url"], "metrics": [],
                  "filters": depth_filter(slug, depth)}})


def meta_payload(org: str, project: str, slug: str, fields: list[str]) -> dict:
    chosen = [BY_SHORT[f] for f in ordered_fields(fields)]
    dims = [f"crawl.{slug}.url"] + [f.path(slug) for f in chosen if not f.metric]
    metrics = [f.path(slug) for f in chosen if f.metric]
    query: dict = {"collections": [f"crawl.{slug}"] + (["search_console"] if metrics else [])}
    if metrics:
        day = analysis_date(slug)
        query["periods"] = [[day, day]]
    query["query"] = {"dimensions": dims, "metrics": metrics}
    return _export(org, project, query)


def columns(kind: str, fields: list[str]) -> list[str]:
    """Our names for a file's columns: the links file's two, or `id` and the chosen fields in table order."""
    return ["source", "target"] if kind == "links" else ["id"] + ordered_fields(fields)


def ordered_fields(chosen) -> list[str]:
    """The chosen short names in the table's order: crawl dimensions, then metrics, as the export returns them."""
    wanted = set(chosen)
    return [f.short for f in FIELDS if f.short in wanted]


def project_dir(downloads_dir: Path, org: str, project: str) -> Path:
    return inside(downloads_dir, "link-graph", org, project)


def file_name(project: str, slug: str, kind: str) -> str:
    return f"{project}_{slug}_{kind}.csv"


def local_files(downloads_dir: Path, org: str, project: str) -> dict[str, dict[str, Path]]:
    """`{slug: {"links": path, "meta": path}}` of the finished files already in the project's folder."""
    folder = project_dir(downloads_dir, org, project)
    pattern = re.compile(rf"^{re.escape(project)}_(.+)_(links|meta)\.csv$")
    found: dict[str, dict[str, Path]] = {}
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if (m := pattern.match(p.name)) and SLUG.match(m.group(1)) and p.is_file():
                found.setdefault(m.group(1), {})[m.group(2)] = p
    return found


def local_label(kinds: dict) -> str:
    if "links" in kinds and "meta" in kinds:
        return "links and meta"
    return "links only" if "links" in kinds else ("meta only" if kinds else "nothing yet")
