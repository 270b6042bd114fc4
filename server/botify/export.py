"""The two link-graph exports: BQL payloads, the optimal depth, and where their files live."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ..files import inside

EDGE_LIMIT = 1_000_000
MAX_DEPTH = 9
KINDS = ("links", "meta")
KIND_NAMES = {"links": "Link graph", "meta": "Page metadata"}
SLUG = re.compile(r"^\d{8}(-[A-Za-z0-9]+)?$")
SEGMENT = re.compile(r"^segments\.([A-Za-z0-9_-]+)\.value$")
DEFAULT_SEGMENT = "pagetype"
SC_DAYS = 30  # Search Console window before the crawl, as Pipulate's link-graph app uses (apps/120_link_graph.py)
# Sent with every export: the formatter defaults are documented as true but a real job echoed them false
# (miklevin/MikeLev.in _posts/2025-01-12-…), so nothing is left to a default. The normaliser copes either way.
FORMATTER_CONFIG = {"delimiter": ",", "print_delimiter": False, "print_header": True, "header_format": "verbose"}


@dataclass(frozen=True)
class Field:
    short: str
    label: str
    bql: str  # `{slug}` is filled in with the analysis, `{segment}` with the segment chosen as page type
    metric: bool = False  # a Search Console metric, which needs the `search_console` collection

    def path(self, slug: str, segment: str = DEFAULT_SEGMENT) -> str:
        return self.bql.format(slug=slug, segment=segment)

    def relative(self, segment: str = DEFAULT_SEGMENT) -> str:
        """The field's id inside its collection, as a collection's field list names it."""
        return self.path("", segment).removeprefix("crawl..").removeprefix("search_console.period_0.")


FIELDS = (
    Field("pagetype", "Page type", "crawl.{slug}.segments.{segment}.value"),
    Field("compliant", "Compliant", "crawl.{slug}.compliant.is_compliant"),
    Field("canonical", "Canonical to itself", "crawl.{slug}.canonical.to.equal"),
    Field("sitemap", "In a sitemap", "crawl.{slug}.sitemaps.present"),
    Field("impressions", "Search Console impressions", "search_console.period_0.count_impressions", metric=True),
    Field("clicks", "Search Console clicks", "search_console.period_0.count_clicks", metric=True),
)
BY_SHORT = {f.short: f for f in FIELDS}


def offered_fields(search_console: bool, available: list[str] | None = None) -> list[Field]:
    """The fields to offer: those the collections have (`available` short names), or all when that is unknown."""
    return [f for f in FIELDS if (search_console or not f.metric) and (available is None or f.short in available)]


def relative_ids(field_ids: list[str], collection: str) -> set[str]:
    """Field ids without their collection (and period) prefix: lists may give `crawl.2024….depth` or `depth`."""
    found = set()
    for fid in field_ids:
        rest = fid.removeprefix(collection + ".")
        found.add(re.sub(r"^period_\d+\.", "", rest))
    return found


def catalog(crawl_fields: list[str], slug: str, sc_fields: list[str] | None) -> dict:
    """What the analysis's collections offer: segment names, and the short names of the fields that exist."""
    crawl = relative_ids(crawl_fields, f"crawl.{slug}")
    segments = sorted(m.group(1) for fid in crawl if (m := SEGMENT.match(fid)))
    sc = relative_ids(sc_fields or [], "search_console")
    offered = [f.short for f in FIELDS if (f.short == "pagetype" and segments)
               or (not f.metric and f.relative() in crawl) or (f.metric and f.relative() in sc)]
    return {"segments": segments, "offered": offered}


def default_segment(segments: list[str]) -> str:
    return DEFAULT_SEGMENT if DEFAULT_SEGMENT in segments or not segments else segments[0]


def analysis_date(slug: str) -> str:
    return f"{slug[:4]}-{slug[4:6]}-{slug[6:8]}"


def sc_period(slug: str, date_start: str | None = None, date_end: str | None = None) -> list[str]:
    """The Search Console period: the 30 days up to the crawl, inside the collection's own date range.

    Timestamped collections list their dates as `date_start`/`date_end` (developers-docs collections.md)."""
    crawl = _day(analysis_date(slug)) or date.today()
    first, last = _day(date_start), _day(date_end)
    end = min(crawl, last) if last else crawl
    if first and end < first:  # the crawl predates the data: its first 30 days
        end = min(first + timedelta(days=SC_DAYS - 1), last or first + timedelta(days=SC_DAYS - 1))
    start = end - timedelta(days=SC_DAYS - 1)
    start = max(start, first) if first else start
    return [start.isoformat(), end.isoformat()]


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def readable_date(slug: str) -> str:
    """`20241117` → `17 November 2024`; a suffix (`-2`) becomes `(run 2)`."""
    try:
        day = date.fromisoformat(analysis_date(slug))
    except ValueError:
        return slug
    suffix = slug.partition("-")[2]
    return f"{day.day} {day:%B %Y}" + (f" (run {suffix})" if suffix else "")


def analysis_label(slug: str, name: str = "") -> str:
    """What a person reads for an analysis: its name when it says more than the slug, and its date once."""
    when = readable_date(slug)
    name = (name or "").strip()
    if not name or name == slug:
        return when
    if slug in name:  # Botify often names an analysis after its slug: say the date there instead
        return name.replace(slug, when)
    return f"{name} ({when})"


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


def _export(org: str, project: str, query: dict, name: str) -> dict:
    """An export job body (shape as in Pipulate's apps/120_link_graph.py); `name` tells our job apart in GET /jobs."""
    return {"job_type": "export",
            "payload": {"username": org, "project": project, "connector": "direct_download", "formatter": "csv",
                        "formatter_config": dict(FORMATTER_CONFIG), "extra_config": {"compression": "gzip"},
                        "export_size": EDGE_LIMIT, "export_job_name": name, "query": query}}


def links_payload(org: str, project: str, slug: str, depth: int, name: str = "") -> dict:
    return _export(org, project, {
        "collections": [f"crawl.{slug}"],
        "query": {"dimensions": ["url", f"crawl.{slug}.outlinks_internal.graph.url"], "metrics": [],
                  "filters": depth_filter(slug, depth)}}, name or f"pipedeck links {slug}")


def meta_payload(org: str, project: str, slug: str, fields: list[str], segment: str = DEFAULT_SEGMENT,
                 period: list[str] | None = None, name: str = "") -> dict:
    chosen = [BY_SHORT[f] for f in ordered_fields(fields)]
    dims = [f"crawl.{slug}.url"] + [f.path(slug, segment) for f in chosen if not f.metric]
    metrics = [f.path(slug) for f in chosen if f.metric]
    query: dict = {"collections": [f"crawl.{slug}"] + (["search_console"] if metrics else [])}
    if metrics:
        query["periods"] = [list(period or sc_period(slug))]
    query["query"] = {"dimensions": dims, "metrics": metrics}
    return _export(org, project, query, name or f"pipedeck meta {slug}")


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
