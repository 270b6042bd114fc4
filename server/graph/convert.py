"""Link-graph CSVs → a compact cache the viewer streams: node table (Arrow IPC) + raw little-endian typed arrays.

The links CSV is read in blocks as bytes, so memory grows with the number of distinct URLs, not with the file,
and odd bytes never stop a conversion: URLs are decoded once at the end, invalid UTF-8 replaced."""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc

from ..files import atomic_path, atomic_write
from .cache import GraphFiles, cached_header, signature
from .arrays import arrow_of, byte_lengths, numpy_of, strings_of
from .layout import radial_layout

BLOCK = 8 << 20  # bytes of CSV per block: bounds memory while reading


def ensure_cache(files: GraphFiles) -> dict:
    """The header of an up-to-date cache, converting first when needed (blocking: call from a worker thread)."""
    return cached_header(files) or convert(files)


def _decode(values: pa.Array) -> pa.Array:
    """Bytes → text; invalid UTF-8 is replaced (U+FFFD) instead of failing the whole file."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return strings_of([None if v is None else v.decode("utf-8", "replace") for v in values.to_pylist()])


def _csv_reader(path: Path, names: list[str], stats: dict):
    def skip(row) -> str:  # a row with the wrong number of fields: counted and left out
        stats["malformed"] = stats.get("malformed", 0) + 1
        return "skip"

    return pcsv.open_csv(
        path, read_options=pcsv.ReadOptions(block_size=BLOCK, use_threads=True),
        parse_options=pcsv.ParseOptions(invalid_row_handler=skip),
        convert_options=pcsv.ConvertOptions(column_types={n: pa.binary() for n in names},
                                            strings_can_be_null=False, quoted_strings_can_be_null=False))


def header_names(path: Path) -> list[str]:
    """The CSV's column names ([] for an empty file); read by Python so odd bytes in the header are tolerated."""
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", "replace").lstrip("\ufeff").strip("\r\n")
    return [n.strip() for n in next(csv.reader([first]), [])] if first.strip() else []


def read_links(path: Path) -> tuple[pa.Array, np.ndarray, np.ndarray, dict]:
    """Distinct URLs (bytes) in order of first appearance, and the edges as int ids; plus what was dropped."""
    names = header_names(path)
    urls = pa.nulls(0, pa.binary())
    keys: list[np.ndarray] = []
    stats = {"rows": 0, "blank": 0, "malformed": 0}
    if len(names) >= 2:
        for batch in _csv_reader(path, names, stats):
            src, tgt = batch.column(0), batch.column(1)
            stats["rows"] += len(src)
            blank = (byte_lengths(src) == 0) | (byte_lengths(tgt) == 0)
            if blank.any():
                stats["blank"] += int(blank.sum())
                keep = arrow_of(~blank)
                src, tgt = src.filter(keep), tgt.filter(keep)
            # Ids follow first appearance, row by row (source, then target): stable and easy to reason about.
            m = len(src)
            order = np.empty(2 * m, np.int64)
            order[0::2], order[1::2] = np.arange(m), np.arange(m, 2 * m)
            seen = pc.unique(pa.concat_arrays([src, tgt]).take(arrow_of(order)))
            new = seen.filter(pc.invert(pc.is_in(seen, value_set=urls)))
            if len(new):
                urls = pa.concat_arrays([urls, new])
            s = numpy_of(pc.index_in(src, value_set=urls), np.int32).astype(np.uint64)
            t = numpy_of(pc.index_in(tgt, value_set=urls), np.int32).astype(np.uint64)
            keys.append((s << np.uint64(32)) | t)
    key = np.concatenate(keys) if keys else np.empty(0, np.uint64)
    stats["edges_read"] = int(len(key))
    # Keep the first occurrence of each edge, in file order.
    _, first = np.unique(key, return_index=True)
    key = key[np.sort(first)]
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
    return urls.take(arrow_of(order)), new_id[source], new_id[target]


def numeric(values: pa.Array) -> pa.Array | None:
    """Float64 values (null where empty) if every non-empty value is a number (impressions, clicks), else None."""
    present = byte_lengths(values) > 0
    if not present.any():
        return None
    try:
        numbers = numpy_of(values.filter(arrow_of(present)).cast(pa.float64()), np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out = np.zeros(len(values), np.float64)
    out[present] = numbers
    return arrow_of(out, present)


def read_meta(path: Path, urls: pa.Array) -> tuple[dict[str, pa.Array], dict]:
    """Metadata columns aligned to the graph's nodes; rows for URLs not in the graph are ignored."""
    stats = {"meta_rows": 0, "meta_matched": 0, "meta_unknown": 0}
    names = header_names(path) if path.exists() else []
    if len(names) < 2:
        return {}, stats
    reader = _csv_reader(path, names, {})
    table = pa.Table.from_batches(list(reader), schema=reader.schema)
    if table.num_rows == 0:
        return {}, stats
    ids = table.column(0).combine_chunks()
    stats["meta_rows"] = table.num_rows
    # index_in gives each node the first metadata row with its URL; nodes without one get null.
    row = pc.index_in(urls, value_set=ids)
    stats["meta_matched"] = len(row) - row.null_count
    stats["meta_unknown"] = int(pc.sum(pc.invert(pc.is_in(ids, value_set=urls)).cast(pa.int64())).as_py() or 0)
    columns = {}
    for i, name in enumerate(names[1:], start=1):
        if i >= table.num_columns or not name or name in ("url", "inbound", "outbound"):
            continue
        text = _decode(table.column(i).combine_chunks().take(row))
        number = numeric(text)
        columns[name] = number if number is not None else text
    return columns, stats


def column_kind(values: pa.Array) -> str:
    return "number" if pa.types.is_floating(values.type) else "category"


def _write_array(path: Path, values: np.ndarray) -> None:
    atomic_write(path, np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<"), copy=False).tobytes())


def convert(files: GraphFiles) -> dict:
    """Build the cache for one graph and return its header. Every file is written atomically, the header last."""
    started = time.perf_counter()
    sig = signature(files)
    if sig["links"] is None:
        raise FileNotFoundError(files.links)
    urls, source, target, stats = read_links(files.links)
    urls, source, target = hubs_last(urls, source, target)
    columns, meta_stats = read_meta(files.meta, urls)
    n = len(urls)
    inbound = np.bincount(target, minlength=n).astype(np.uint32)
    outbound = np.bincount(source, minlength=n).astype(np.uint32)
    table = pa.table({"url": _decode(urls), "inbound": arrow_of(inbound), "outbound": arrow_of(outbound), **columns})
    with atomic_path(files.nodes) as tmp:
        with ipc.new_file(str(tmp), table.schema) as writer:
            writer.write_table(table)
    links = np.empty(2 * len(source), np.float32)  # cosmos takes index pairs as float32 (exact below 2**24)
    links[0::2], links[1::2] = source, target
    _write_array(files.array("links"), links)
    _write_array(files.array("positions"), radial_layout(source, target, inbound, n))
    _write_array(files.array("inbound"), inbound.astype(np.float32))
    header = {
        "source": sig, "nodes": n, "edges": int(len(source)), **stats, **meta_stats,
        "has_meta": sig["meta"] is not None,
        "columns": [{"name": k, "kind": column_kind(v)} for k, v in columns.items()],
        "seconds": round(time.perf_counter() - started, 3),
    }
    atomic_write(files.header, json.dumps(header))
    return header


def read_nodes(files: GraphFiles) -> pa.Table:
    """The node table, memory-mapped: searching and node details read only what they touch."""
    return ipc.open_file(pa.memory_map(str(files.nodes))).read_all()
