"""Link-graph CSVs → a compact cache the viewer streams: node table (Arrow IPC) + raw little-endian typed arrays,
plus the per-page figures beside the CSVs.

Reading the links (server.graph.links) is most of the work; the stages after it that need each other's results
only at the end run side by side on a thread pool: Arrow and numpy release the GIL."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from ..files import atomic_path, atomic_write
from .arrays import arrow_of
from .cache import GraphFiles, cached_header, signature
from .figures import ranks, write_orphans, write_pages
from .layout import radial_layout
from .links import decode, distinct_edges, hubs_last, link_ids, read_link_table
from .meta import join_meta, read_meta
from .rank import pagerank
from .search import index_table


def ensure_cache(files: GraphFiles) -> dict:
    """The header of an up-to-date cache, converting first when needed (blocking: call from a worker thread)."""
    return cached_header(files) or convert(files)


def column_kind(values: pa.Array) -> str:
    return "number" if pa.types.is_floating(values.type) else "category"


def _write_array(path: Path, values: np.ndarray) -> None:
    # Written from the array's own memory: a bytes copy of it costs its size again in fresh pages.
    atomic_write(path, memoryview(np.ascontiguousarray(values, values.dtype.newbyteorder("<"))))


def _write_table(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        with ipc.new_file(str(tmp), table.schema) as writer:
            writer.write_table(table)


def _write_links(files: GraphFiles, source: np.ndarray, target: np.ndarray) -> None:
    links = np.empty(2 * len(source), np.float32)  # cosmos takes index pairs as float32 (exact below 2**24)
    links[0::2], links[1::2] = source, target
    _write_array(files.array("links"), links)


def convert(files: GraphFiles) -> dict:
    """Build the cache and the pages file for one graph and return the header. Every file is written atomically,
    the header last: a cache without its header is never taken for a finished one."""
    started = time.perf_counter()
    sig = signature(files)
    if sig["links"] is None:
        raise FileNotFoundError(files.links)
    with ThreadPoolExecutor(4) as pool:
        meta = pool.submit(read_meta, files.meta)  # parsed beside the links
        links, stats = read_link_table(files.links)
        meta = meta.result()
        urls, source, target, meta_node = link_ids(links, stats, meta[1].column(0) if meta else None)
        # The CSV's cells, most of the memory at 10M links, go back to the system for numpy's arrays: Arrow's
        # allocator would keep them (peak at 10M links 1.79 GB with it keeping them, 1.55 GB without).
        del links
        pa.default_memory_pool().release_unused()
        source, target = distinct_edges(source, target, stats)
        # Edges still sorted by source: PageRank's gather runs in order. It takes a core while the rest goes on.
        rank_by_first_id = pool.submit(pagerank, source, target, len(urls))
        urls, source, target, meta_node, order, inbound = hubs_last(urls, source, target, meta_node)
        n = len(urls)
        outbound = np.bincount(source, minlength=n).astype(np.uint32)
        text = decode(urls)
        done = [pool.submit(_write_links, files, source, target),
                pool.submit(lambda: _write_array(files.array("positions"), radial_layout(source, target, inbound, n))),
                pool.submit(lambda: _write_table(files.search, index_table(text))),
                pool.submit(_write_array, files.array("inbound"), inbound.astype(np.float32))]
        columns, meta_stats, orphans = join_meta(meta, meta_node, inbound)
        rank_of = rank_by_first_id.result()[order]
        by_rank, rank = ranks(rank_of)
        table = pa.table({"url": text, "pagerank": arrow_of(rank_of), "rank": arrow_of(rank),
                          "inbound": arrow_of(inbound), "outbound": arrow_of(outbound), **columns})
        done += [pool.submit(_write_table, files.nodes, table),
                 pool.submit(_write_array, files.array("pagerank"), rank_of.astype(np.float32))]
        orphan_count = write_orphans(files.orphans, orphans)
        write_pages(files.pages, table, by_rank, pool)
        for job in done:
            job.result()
    header = {
        "source": sig, "nodes": n, "edges": int(len(source)), **stats, **meta_stats,
        "has_meta": sig["meta"] is not None, "orphans": orphan_count, "dead_ends": int((outbound == 0).sum()),
        "columns": [{"name": k, "kind": column_kind(v)} for k, v in columns.items()],
        "seconds": round(time.perf_counter() - started, 3),
    }
    atomic_write(files.header, json.dumps(header))
    return header


def read_table(path: Path) -> pa.Table:
    """A cached table, memory-mapped: searching and node details read only what they touch."""
    return ipc.open_file(pa.memory_map(str(path))).read_all()


def read_nodes(files: GraphFiles) -> pa.Table:
    return read_table(files.nodes)
