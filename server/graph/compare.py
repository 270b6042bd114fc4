"""Two analyses of one project compared: pages and links added and removed, and the largest PageRank changes;
written to `{project}_{slugA}_vs_{slugB}_changes.csv` beside the CSVs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..files import atomic_write
from .arrays import arrow_of, numpy_of
from .cache import GraphFiles
from .convert import read_nodes
from .figures import write_csv

SHOWN = 25  # rows of each list on screen; the CSV has them all
COLUMNS = ("change", "url", "target", "pagerank_a", "pagerank_b", "pagerank_change")


def changes_path(a: GraphFiles, b_slug: str) -> Path:
    return a.links.with_name(f"{a.stem}_vs_{b_slug}_changes.csv")


def _edges(files: GraphFiles) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.fromfile(files.array("links"), "<f4").astype(np.int64)
    return pairs[0::2], pairs[1::2]


def _keys(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    return (source.astype(np.uint64) << np.uint64(32)) | target.astype(np.uint64)


def _missing_from(keys: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Positions of `keys` that are not in `others` (a sort and a binary search: no hash of millions)."""
    others = np.sort(others)
    at = np.searchsorted(others, keys).clip(0, max(len(others) - 1, 0))
    return np.flatnonzero(others[at] != keys) if len(others) else np.arange(len(keys))


def _rows(change: str, url: pa.Array, target=None, pr_a=None, pr_b=None) -> pa.Table:
    n = len(url)
    nothing = pa.nulls(n, pa.float64())
    delta = nothing if pr_a is None or pr_b is None else arrow_of(pr_b - pr_a)
    return pa.table({"change": pa.array([change] * n, pa.string()), "url": url.cast(pa.string()),
                     "target": pa.nulls(n, pa.string()) if target is None else target.cast(pa.string()),
                     "pagerank_a": nothing if pr_a is None else arrow_of(pr_a),
                     "pagerank_b": nothing if pr_b is None else arrow_of(pr_b), "pagerank_change": delta})


def compute(a: GraphFiles, b: GraphFiles) -> tuple[dict, pa.Table]:
    """The summary shown on screen and every change as rows of the CSV (caches of both must be ready)."""
    nodes_a, nodes_b = read_nodes(a), read_nodes(b)
    urls_a, urls_b = nodes_a.column("url").combine_chunks(), nodes_b.column("url").combine_chunks()
    pr_a = numpy_of(nodes_a.column("pagerank").combine_chunks(), np.float64)
    pr_b = numpy_of(nodes_b.column("pagerank").combine_chunks(), np.float64)
    in_b = numpy_of(pc.index_in(urls_a, value_set=urls_b), np.int32, fill=-1).astype(np.int64)
    kept = np.flatnonzero(in_b >= 0)
    added_pages = np.flatnonzero(numpy_of(pc.index_in(urls_b, value_set=urls_a), np.int32, fill=-1) < 0)
    removed_pages = np.flatnonzero(in_b < 0)
    # A's links in B's numbering; a link whose page is gone cannot be in B
    sa, ta = _edges(a)
    sb, tb = _edges(b)
    both = (in_b[sa] >= 0) & (in_b[ta] >= 0)
    key_a = np.where(both, _keys(in_b[sa], in_b[ta]), np.uint64(2**64 - 1))
    removed_links = _missing_from(key_a, _keys(sb, tb))
    added_links = _missing_from(_keys(sb, tb), key_a[both])
    delta = pr_b[in_b[kept]] - pr_a[kept]
    moved = kept[np.argsort(-np.abs(delta), kind="stable")]
    moved = moved[pr_b[in_b[moved]] != pr_a[moved]]
    take = lambda arr, ids: arr.take(arrow_of(ids.astype(np.int64)))  # noqa: E731
    table = pa.concat_tables([
        _rows("page added", take(urls_b, added_pages), pr_b=pr_b[added_pages]),
        _rows("page removed", take(urls_a, removed_pages), pr_a=pr_a[removed_pages]),
        _rows("link added", take(urls_b, sb[added_links]), take(urls_b, tb[added_links])),
        _rows("link removed", take(urls_a, sa[removed_links]), take(urls_a, ta[removed_links])),
        _rows("pagerank change", take(urls_a, moved), pr_a=pr_a[moved], pr_b=pr_b[in_b[moved]]),
    ])
    order = np.argsort(delta, kind="stable")
    summary = {
        "pages_a": len(urls_a), "pages_b": len(urls_b), "links_a": len(sa), "links_b": len(sb),
        "pages_added": len(added_pages), "pages_removed": len(removed_pages),
        "links_added": len(added_links), "links_removed": len(removed_links),
        "added": take(urls_b, added_pages[:SHOWN]).to_pylist(),
        "removed": take(urls_a, removed_pages[:SHOWN]).to_pylist(),
        "gains": _movers(urls_a, kept, delta, pr_a, order[::-1]),
        "losses": _movers(urls_a, kept, delta, pr_a, order),
    }
    return summary, table


def _movers(urls: pa.Array, kept: np.ndarray, delta: np.ndarray, pr_a: np.ndarray, order: np.ndarray) -> list:
    """The first SHOWN pages in `order` whose PageRank moved in that direction."""
    sign = np.sign(delta[order[0]]) if len(order) else 0
    picked = [i for i in order[:SHOWN] if np.sign(delta[i]) == sign and delta[i] != 0]
    ids = kept[picked]
    names = urls.take(arrow_of(ids.astype(np.int64))).to_pylist()
    return [{"url": u, "before": float(pr_a[i]), "after": float(pr_a[i] + delta[p]), "change": float(delta[p])}
            for u, i, p in zip(names, ids, picked)]


def compare(a: GraphFiles, b: GraphFiles, b_slug: str, headers: tuple[dict, dict]) -> dict:
    """The summary, from the last comparison of these exact caches or computed now (blocking: run in a worker)."""
    target = changes_path(a, b_slug)
    sidecar = a.cache(f"vs_{b_slug}.json")
    built_from = [h["source"] for h in headers]
    try:
        saved = json.loads(sidecar.read_text())
        if saved["from"] == built_from and target.exists():
            return saved["summary"]
    except (OSError, ValueError, KeyError):
        pass
    summary, table = compute(a, b)
    write_csv(target, table)
    atomic_write(sidecar, json.dumps({"from": built_from, "summary": summary}))
    return summary
