"""Link-graph CSVs → a compact cache the viewer streams: node table (Arrow IPC) + raw little-endian typed arrays.

The links CSV is read in blocks as bytes, so memory grows with the number of distinct URLs, not with the file,
and odd bytes never stop a conversion: URLs are decoded once at the end, invalid UTF-8 replaced."""
from __future__ import annotations

import csv
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc

from ..files import atomic_path, atomic_write
from .cache import GraphFiles, cached_header, signature
from .arrays import arrow_of, byte_lengths, numpy_of, strings_of
from .figures import FIGURES, orphan_rows, ranks, write_orphans, write_pages
from .rank import pagerank
from .search import index_table
from .layout import radial_layout

BLOCK = 16 << 20  # bytes of CSV per block, parsed in parallel


def ensure_cache(files: GraphFiles) -> dict:
    """The header of an up-to-date cache, converting first when needed (blocking: call from a worker thread)."""
    return cached_header(files) or convert(files)


def _decode(values: pa.Array) -> pa.Array:
    """Bytes → text; invalid UTF-8 is replaced (U+FFFD) instead of failing the whole file."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return strings_of([None if v is None else v.decode("utf-8", "replace") for v in values.to_pylist()])


def _csv_options(names: list[str], stats: dict, kind: pa.DataType):
    def skip(row) -> str:  # a row with the wrong number of fields: counted and left out
        stats["malformed"] = stats.get("malformed", 0) + 1
        return "skip"

    return dict(read_options=pcsv.ReadOptions(block_size=BLOCK, use_threads=True),
                parse_options=pcsv.ParseOptions(invalid_row_handler=skip),
                convert_options=pcsv.ConvertOptions(column_types={n: kind for n in names}, strings_can_be_null=False,
                                                    quoted_strings_can_be_null=False))


def _csv_reader(path: Path, names: list[str], stats: dict):
    return pcsv.open_csv(path, **_csv_options(names, stats, pa.binary()))


def header_names(path: Path) -> list[str]:
    """The CSV's column names ([] for an empty file); read by Python so odd bytes in the header are tolerated."""
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", "replace").lstrip("\ufeff").strip("\r\n")
    return [n.strip() for n in next(csv.reader([first]), [])] if first.strip() else []


def _indices(column: pa.ChunkedArray) -> np.ndarray:
    return np.concatenate([numpy_of(c.indices, np.int32) for c in column.chunks])


def _global_ids(table: pa.Table) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """One URL list for both columns (sources in order of first appearance, then targets never a source) and
    each row's ids. Each cell is hashed once, the two columns at the same time (Arrow's kernels release the GIL);
    then only the targets' distinct URLs are looked up among the sources'. Hashing per CSV block and unifying the
    blocks' lists afterwards hashed most URLs twice."""
    if table.num_rows == 0:
        return pa.nulls(0, pa.binary()), np.empty(0, np.int32), np.empty(0, np.int32)
    # On a chunked column every chunk gets the one final dictionary (Arrow's DictEncodeFinalize).
    with ThreadPoolExecutor(2) as pool:
        source_col, target_col = pool.map(pc.dictionary_encode, [table.column(0), table.column(1)])
    sources, targets = source_col.chunk(0).dictionary, target_col.chunk(0).dictionary
    target_id = numpy_of(pc.index_in(targets, value_set=sources), np.int32, fill=-1)
    new = np.flatnonzero(target_id < 0)
    target_id[new] = len(sources) + np.arange(len(new), dtype=np.int32)
    urls = pa.concat_arrays([sources, targets.take(arrow_of(new))])
    return urls, _indices(source_col), target_id[_indices(target_col)]


def _drop_blank(urls: pa.Array, src: np.ndarray, tgt: np.ndarray, stats: dict):
    """Rows with an empty source or target are left out, and URLs that only such rows named."""
    empty = np.flatnonzero(byte_lengths(urls) == 0)
    if not len(empty):
        return urls, src, tgt
    blank = (src == empty[0]) | (tgt == empty[0])
    stats["blank"] = int(blank.sum())
    src, tgt = src[~blank], tgt[~blank]
    used = np.zeros(len(urls), bool)
    used[src] = used[tgt] = True
    new_id = np.cumsum(used) - 1
    return urls.filter(arrow_of(used)), new_id[src], new_id[tgt]


def read_links(path: Path) -> tuple[pa.Array, np.ndarray, np.ndarray, dict]:
    """Distinct URLs (bytes; sources by first appearance, then the other targets) and the distinct edges as int
    ids sorted by source;
    plus what was dropped (duplicates, self-links, blank and malformed rows)."""
    names = header_names(path)
    stats = {"rows": 0, "blank": 0, "malformed": 0}
    urls, src, tgt = pa.nulls(0, pa.binary()), np.empty(0, np.int32), np.empty(0, np.int32)
    if len(names) >= 2:
        table = pcsv.read_csv(path, **_csv_options(names, stats, pa.binary()))
        stats["rows"] = table.num_rows
        urls, src, tgt = _global_ids(table.select([0, 1]))
        del table
        urls, src, tgt = _drop_blank(urls, src, tgt, stats)
    key = (src.astype(np.uint64) << np.uint64(32)) | tgt.astype(np.uint64)
    del src, tgt
    stats["edges_read"] = int(len(key))
    key.sort()
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    stats["duplicates"] = stats["edges_read"] - int(len(key))
    source = (key >> np.uint64(32)).astype(np.uint32)
    target = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    self_link = source == target
    stats["self_links"] = int(self_link.sum())
    # Self-links are dropped: a page linking to itself says nothing about the site's structure and draws nothing.
    return urls, source[~self_link], target[~self_link], stats


def hubs_last(urls: pa.Array, source: np.ndarray, target: np.ndarray):
    """Renumber nodes by inbound links, fewest first (ties keep first appearance): WebGL draws points in index
    order, so the most-linked pages are drawn on top instead of vanishing under their thousands of neighbours."""
    n = len(urls)
    order = np.argsort(np.bincount(target, minlength=n), kind="stable")
    new_id = np.empty(n, np.uint32)
    new_id[order] = np.arange(n, dtype=np.uint32)
    return urls.take(arrow_of(order)), new_id[source], new_id[target], order


def numeric(values: pa.Array) -> pa.Array | None:
    """Float64 values (null where empty) if every non-empty value is a number (impressions, clicks), else None."""
    present = byte_lengths(values) > 0
    if not present.any():
        return None
    try:
        # A failing cast of a whole column costs a second; the first values settle most text columns at once.
        values.filter(arrow_of(present)).slice(0, 64).cast(pa.float64())
        numbers = numpy_of(values.filter(arrow_of(present)).cast(pa.float64()), np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out = np.zeros(len(values), np.float64)
    out[present] = numbers
    return arrow_of(out, present)


def read_meta(path: Path, urls: pa.Array, inbound: np.ndarray) -> tuple[dict[str, pa.Array], dict, pa.Table | None]:
    """Metadata columns aligned to the graph's nodes (rows for URLs not in the graph are ignored there), and the
    metadata rows of orphan pages (None without a metadata file)."""
    stats = {"meta_rows": 0, "meta_matched": 0, "meta_unknown": 0}
    names = header_names(path) if path.exists() else []
    if len(names) < 2:
        return {}, stats, None
    reader = _csv_reader(path, names, {})
    table = pa.Table.from_batches(list(reader), schema=reader.schema)
    if table.num_rows == 0:
        return {}, stats, None
    stats["meta_rows"] = table.num_rows
    # Arrays, not the table: an empty filtered table's columns have no chunks, and combining none loads pandas.
    whole = [table.column(i).combine_chunks() for i in range(table.num_columns)]
    node_of = numpy_of(pc.index_in(whole[0], value_set=urls), np.int32, fill=-1).astype(np.int64)
    stats["meta_unknown"] = int((node_of < 0).sum())
    # Each node's first metadata row: scattered in reverse, so the first row is written last and stays.
    known = np.flatnonzero(node_of >= 0)[::-1]
    first = np.full(len(urls), -1, np.int64)
    first[node_of[known]] = known
    stats["meta_matched"] = int((first >= 0).sum())
    row = arrow_of(first.clip(0), first >= 0)
    columns = {}
    for i, name in enumerate(names[1:], start=1):
        if i >= table.num_columns or not name or name == "url" or name in FIGURES:
            continue
        text = _decode(whole[i].take(row))
        number = numeric(text)
        columns[name] = number if number is not None else text
    orphans = arrow_of(orphan_rows(node_of, inbound))
    return columns, stats, pa.table([_decode(a.take(orphans)) for a in whole], names=["url"] + names[1:len(whole)])


def column_kind(values: pa.Array) -> str:
    return "number" if pa.types.is_floating(values.type) else "category"


def _write_array(path: Path, values: np.ndarray) -> None:
    atomic_write(path, np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<"), copy=False).tobytes())


def _write_table(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        with ipc.new_file(str(tmp), table.schema) as writer:
            writer.write_table(table)


def convert(files: GraphFiles) -> dict:
    """Build the cache and the pages file for one graph and return the header. Every file is written atomically,
    the header last: a cache without its header is never taken for a finished one."""
    started = time.perf_counter()
    sig = signature(files)
    if sig["links"] is None:
        raise FileNotFoundError(files.links)
    urls, source, target, stats = read_links(files.links)
    rank_by_first_id = pagerank(source, target, len(urls))  # edges still sorted by source: the gather runs in order
    urls, source, target, order = hubs_last(urls, source, target)
    rank_of = rank_by_first_id[order]
    del rank_by_first_id
    n = len(urls)
    inbound = np.bincount(target, minlength=n).astype(np.uint32)
    outbound = np.bincount(source, minlength=n).astype(np.uint32)
    columns, meta_stats, orphans = read_meta(files.meta, urls, inbound)
    order, rank = ranks(rank_of)
    table = pa.table({"url": _decode(urls), "pagerank": arrow_of(rank_of), "rank": arrow_of(rank),
                      "inbound": arrow_of(inbound), "outbound": arrow_of(outbound), **columns})
    _write_table(files.nodes, table)
    _write_table(files.search, index_table(table.column("url").combine_chunks()))
    write_pages(files.pages, table, order)
    orphan_count = write_orphans(files.orphans, orphans)
    links = np.empty(2 * len(source), np.float32)  # cosmos takes index pairs as float32 (exact below 2**24)
    links[0::2], links[1::2] = source, target
    _write_array(files.array("links"), links)
    _write_array(files.array("positions"), radial_layout(source, target, inbound, n))
    _write_array(files.array("inbound"), inbound.astype(np.float32))
    _write_array(files.array("pagerank"), rank_of.astype(np.float32))
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
