"""What the insights screen shows, computed from the cached node table: top pages, dead ends, orphans, and the
PageRank share and inlinks distribution by a metadata column."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from .arrays import arrow_of, numpy_of
from .cache import GraphFiles
from .nodes import MAX_CATEGORIES, MISSING, categories, category_codes, number_values

SHOWN = ("url", "pagerank", "rank", "inbound", "outbound")
# Inlinks buckets: pages reached by one link and pages reached by thousands are different problems.
INLINK_EDGES = (1, 2, 6, 21, 101, 1001)
INLINK_LABELS = ("0", "1", "2–5", "6–20", "21–100", "101–1,000", "over 1,000")
NUMBER_BINS = 5


def _rows(table: pa.Table, ids: np.ndarray, extra: str | None) -> list[dict]:
    names = [*SHOWN, extra] if extra and extra in table.column_names else list(SHOWN)
    return table.select(names).take(arrow_of(ids.astype(np.int64))).to_pylist()


def top_pages(table: pa.Table, limit: int = 25, extra: str | None = None) -> list[dict]:
    """The pages with the highest PageRank, highest first."""
    rank = numpy_of(table.column("rank").combine_chunks(), np.uint32)
    return _rows(table, np.argsort(rank)[:limit], extra)


def dead_ends(table: pa.Table, limit: int = 25, extra: str | None = None) -> list[dict]:
    """Pages with no outlinks (self-links do not count), highest PageRank first."""
    out = numpy_of(table.column("outbound").combine_chunks(), np.uint32)
    rank = numpy_of(table.column("rank").combine_chunks(), np.uint32)
    ids = np.flatnonzero(out == 0)
    return _rows(table, ids[np.argsort(rank[ids])][:limit], extra)


def orphan_list(files: GraphFiles, limit: int = 100) -> tuple[int, list[dict]]:
    """How many orphan pages the orphans file lists, and the first `limit` of them."""
    if not files.orphans.exists():
        return 0, []
    table = pcsv.read_csv(files.orphans, convert_options=pcsv.ConvertOptions(strings_can_be_null=False))
    if "url" not in table.column_names:  # a header-only file: no orphans
        return 0, []
    return table.num_rows, table.slice(0, limit).to_pylist()


def groups(table: pa.Table, column: str, kind: str) -> tuple[list[str], np.ndarray]:
    """Per node, a group code into the returned labels: a category's values (the commonest ones, then "other
    values"), or for a number column its quantile ranges; the last label is "no value"."""
    if kind == "category":
        cats = categories(table, column)
        labels = [c["value"] for c in cats[:MAX_CATEGORIES]] + (["other values"] if len(cats) > MAX_CATEGORIES
                                                                else [])
        codes = category_codes(table, column).astype(np.int64)
        codes[codes == MISSING] = len(labels)
        return labels + ["no value"], codes
    values = number_values(table, column).astype(np.float64)
    present = ~np.isnan(values)
    edges = np.unique(np.quantile(values[present], np.linspace(0, 1, NUMBER_BINS + 1))) if present.any() else []
    inner = np.asarray(edges[1:-1])
    labels = [f"{lo:,.4g} – {hi:,.4g}" for lo, hi in zip(edges[:-1], edges[1:])] or []
    codes = np.full(len(values), len(labels), np.int64)
    codes[present] = np.searchsorted(inner, values[present], side="right")
    return labels + ["no value"], codes


def breakdown(table: pa.Table, column: str, kind: str) -> dict:
    """Pages, PageRank share and the inlinks histogram of each group (empty groups left out)."""
    labels, codes = groups(table, column, kind)
    k = len(labels)
    pagerank = numpy_of(table.column("pagerank").combine_chunks(), np.float64)
    inbound = numpy_of(table.column("inbound").combine_chunks(), np.uint32)
    pages = np.bincount(codes, minlength=k)
    share = np.bincount(codes, weights=pagerank, minlength=k)
    bucket = np.digitize(inbound, INLINK_EDGES)
    histogram = np.bincount(codes * len(INLINK_LABELS) + bucket, minlength=k * len(INLINK_LABELS))
    histogram = histogram.reshape(k, len(INLINK_LABELS))
    keep = np.flatnonzero(pages)
    return {"column": column, "labels": [labels[i] for i in keep], "pages": pages[keep].tolist(),
            "share": [round(float(s), 6) for s in share[keep]], "buckets": list(INLINK_LABELS),
            "inlinks": histogram[keep].tolist()}


def default_column(columns: list[dict]) -> str | None:
    """Page type when the metadata has it, else its first category column, else any column."""
    names = [c["name"] for c in columns]
    if "pagetype" in names:
        return "pagetype"
    return next((c["name"] for c in columns if c["kind"] == "category"), names[0] if names else None)

