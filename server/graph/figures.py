"""Per-page figures written beside the CSVs: `{project}_{slug}_pages.csv` (PageRank, inlinks, outlinks and the
metadata, highest PageRank first) and `{project}_{slug}_orphans.csv` (metadata rows no link reaches)."""
from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from ..files import atomic_path
from .arrays import arrow_of

FIGURES = ("pagerank", "rank", "inbound", "outbound")  # node-table columns the converter computes itself
PAGE_HEADER = {"inbound": "inlinks", "outbound": "outlinks"}
PARTS = 8  # pieces of the pages file formatted side by side


def ranks(pagerank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node ids by PageRank, highest first (ties: lower id first), and each node's 1-based rank."""
    order = np.argsort(-pagerank, kind="stable")
    rank = np.empty(len(pagerank), np.uint32)
    rank[order] = np.arange(1, len(pagerank) + 1, dtype=np.uint32)
    return order, rank


def write_csv(path: Path, table: pa.Table) -> None:
    """Atomically, with the owner-only mode every generated file gets (server.files' default)."""
    with atomic_path(path) as tmp:
        pcsv.write_csv(table, tmp)


def _csv_bytes(table: pa.Table, header: bool) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=header))
    return sink.getvalue()


def write_pages(path: Path, nodes: pa.Table, order: np.ndarray, pool: Executor) -> None:
    """url,pagerank,inlinks,outlinks then the metadata columns, one row per page, highest PageRank first.
    Arrow's CSV writer formats on one core; the rows are formatted in PARTS pieces on the pool's threads and
    written in order (at 1M links 70 ms of CPU, mostly the floats)."""
    names = ["url", "pagerank", "inbound", "outbound"] + [c for c in nodes.column_names if c not in FIGURES
                                                          and c != "url"]
    table = nodes.select(names).rename_columns([PAGE_HEADER.get(n, n) for n in names])
    bounds = np.linspace(0, len(order), PARTS + 1).astype(np.int64)
    parts = pool.map(lambda i: _csv_bytes(table.take(arrow_of(order[bounds[i]:bounds[i + 1]].astype(np.int64))),
                                          header=i == 0), range(PARTS))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for part in parts:
            f.write(part)


def orphan_rows(node_of: np.ndarray, inbound: np.ndarray) -> np.ndarray:
    """Metadata rows no link reaches, given each row's node (-1 when its URL is in no link at all)."""
    reached = np.zeros(len(node_of), bool)
    known = node_of >= 0
    reached[known] = inbound[node_of[known]] > 0
    return np.flatnonzero(~reached)


def write_orphans(path: Path, meta: pa.Table | None) -> int | None:
    """The orphans CSV (None, and no file, without metadata); returns how many orphan pages there are."""
    if meta is None:
        path.unlink(missing_ok=True)  # a stale list from an earlier metadata file would mislead
        return None
    write_csv(path, meta)
    return meta.num_rows
