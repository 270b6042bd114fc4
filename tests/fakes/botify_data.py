"""What the fake Botify serves: a project's collections and fields, and export files as Botify writes them."""
from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field

VERBOSE = {  # the human-readable column names Botify writes (header_format "verbose"), by the end of the BQL field
    "url": "Full URL", "outlinks_internal.graph.url": "Outlinks Internal: Destination URL",
    "compliant.is_compliant": "Is Compliant", "canonical.to.equal": "Canonical: Is Self",
    "sitemaps.present": "Present in Sitemaps", "count_impressions": "Impressions", "count_clicks": "Clicks",
}
PAGETYPES = ("home", "category", "product", "article")
CRAWL_FIELDS = ("url", "depth", "http_code", "outlinks_internal.nb.total", "outlinks_internal.graph.url",
                "compliant.is_compliant", "canonical.to.equal", "sitemaps.present")
SC_FIELDS = ("count_impressions", "count_clicks", "ctr", "avg_position")


@dataclass
class FakeProject:
    analyses: list[dict] = field(default_factory=lambda: [
        {"slug": "20240301", "name": "20240301", "status": "success"},
        {"slug": "20240201", "name": "February crawl", "status": "success"},
    ])
    search_console: bool = True
    sc_dates: tuple[str, str] = ("2023-03-01", "2024-06-30")
    segments: tuple[str, ...] = ("pagetype", "template")
    crawl_fields: tuple[str, ...] = CRAWL_FIELDS
    depth_counts: list[int] = field(default_factory=lambda: [40, 180, 420, 420])
    links_rows: int = 420
    meta_rows: int = 64

    def fields(self, collection: str) -> list[str] | None:
        """Field ids (prefixed with their collection) of one of this project's collections, or None if it has none."""
        if collection == "search_console":
            return [f"search_console.{f}" for f in SC_FIELDS] if self.search_console else None
        slug = collection.removeprefix("crawl.")
        if not any(a["slug"] == slug and a["status"] == "success" for a in self.analyses):
            return None
        names = list(self.crawl_fields) + [f"segments.{s}.value" for s in self.segments]
        return [f"{collection}.{f}" for f in names]

    def knows(self, bql: str) -> bool:
        """A query's field exists: global `url`, `{collection}.{field}` or `search_console.period_N.{field}`."""
        if bql == "url":
            return True
        head, _, rest = bql.partition(".")
        if head == "search_console":
            rest = rest.partition(".")[2] if rest.startswith("period_") else rest
            return f"search_console.{rest}" in (self.fields("search_console") or [])
        slug, _, name = rest.partition(".")
        return f"crawl.{slug}.{name}" in (self.fields(f"crawl.{slug}") or [])


def verbose_name(bql: str) -> str:
    if ".segments." in bql:
        return f"Segments: {bql.split('.segments.')[1].split('.')[0]} Value"
    for suffix, name in VERBOSE.items():
        if bql == suffix or bql.endswith("." + suffix):
            return name
    return bql


def csv_gz(header: list[str] | None, rows, line_end: str = "\n", level: int = 1, sep: bool = True) -> bytes:
    """A gzip CSV as Botify writes it: maybe `sep=,`, maybe verbose headers, then the rows (already CSV text)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=level, mtime=0) as gz:
        if sep:
            gz.write(("sep=," + line_end).encode())
        if header is not None:
            gz.write((",".join(header) + line_end).encode())
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 10000:
                gz.write((line_end.join(batch) + line_end).encode())
                batch = []
        if batch:
            gz.write((line_end.join(batch) + line_end).encode())
    return buf.getvalue()


def link_rows(n: int, site: str = "https://www.example.com"):
    """`n` edges; the first source has a comma in it, so it is quoted, as in a real export."""
    pages = max(2, n // 8)
    for i in range(n):
        source = f'"{site}/search?q=a,b"' if i == 0 else f"{site}/p{i % pages}"
        yield f"{source},{site}/p{(i * 7 + 1) % pages}"


def meta_rows(n: int, dims: list[str], metrics: list[str], site: str = "https://www.example.com"):
    for i in range(n):
        values = [f"{site}/p{i}"]
        for d in dims[1:]:
            values.append(PAGETYPES[i % 4] if ".segments." in d else ("true" if i % 3 else "false"))
        values += [str((i * 37) % 1000) if "impressions" in m else str((i * 7) % 50) for m in metrics]
        yield ",".join(values)
