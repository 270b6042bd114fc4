"""The workflow's CSVs read as bytes, and the links CSV turned into integer ids: distinct URLs and distinct edges.

Cells are read as bytes so odd bytes never stop a conversion: text is decoded once at the end, invalid UTF-8
replaced."""
from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from .arrays import arrow_of, byte_lengths, stable_order, strings_of
from .distinct import distinct_ids

BLOCK = 16 << 20  # bytes of CSV per block, parsed in parallel


def decode(values: pa.Array) -> pa.Array:
    """Bytes → text; invalid UTF-8 is replaced (U+FFFD) instead of failing the whole file."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return strings_of([None if v is None else v.decode("utf-8", "replace") for v in values.to_pylist()])


def header_names(path: Path) -> list[str]:
    """The CSV's column names ([] for an empty file); read by Python so odd bytes in the header are tolerated."""
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", "replace").lstrip("\ufeff").strip("\r\n")
    return [n.strip() for n in next(csv.reader([first]), [])] if first.strip() else []


def read_bytes_table(path: Path, names: list[str], stats: dict) -> pa.Table:
    """Every column as bytes, empty cells as empty values; rows with the wrong number of fields are counted in
    `stats["malformed"]` and left out."""
    def skip(row) -> str:
        stats["malformed"] = stats.get("malformed", 0) + 1
        return "skip"

    return pcsv.read_csv(path, read_options=pcsv.ReadOptions(block_size=BLOCK, use_threads=True),
                         parse_options=pcsv.ParseOptions(invalid_row_handler=skip),
                         convert_options=pcsv.ConvertOptions(column_types={n: pa.binary() for n in names},
                                                             strings_can_be_null=False,
                                                             quoted_strings_can_be_null=False))


def _renumber(ids: np.ndarray, new_id: np.ndarray) -> np.ndarray:
    """`new_id` of each id, keeping -1 (no node) as it is."""
    out = np.full(len(ids), -1, np.int64)
    known = ids >= 0
    out[known] = new_id[ids[known]]
    return out


def _drop_blank(urls: pa.Array, src: np.ndarray, tgt: np.ndarray, found: np.ndarray, stats: dict):
    """Rows with an empty source or target are left out, and URLs that only such rows named."""
    empty = np.flatnonzero(byte_lengths(urls) == 0)
    if not len(empty):
        return urls, src, tgt, found
    blank = (src == empty[0]) | (tgt == empty[0])
    stats["blank"] = int(blank.sum())
    src, tgt = src[~blank], tgt[~blank]
    used = np.zeros(len(urls), bool)
    used[src] = used[tgt] = True
    new_id = np.where(used, np.cumsum(used) - 1, -1)
    return urls.filter(arrow_of(used)), new_id[src], new_id[tgt], _renumber(found, new_id)


def read_link_table(path: Path) -> tuple[pa.Table | None, dict]:
    """The links CSV's source and target columns as bytes (None without two columns), and what was read."""
    names = header_names(path)
    stats = {"rows": 0, "blank": 0, "malformed": 0}
    if len(names) < 2:
        return None, stats
    table = read_bytes_table(path, names, stats)
    stats["rows"] = table.num_rows
    return table.select([0, 1]), stats


def link_ids(table: pa.Table | None, stats: dict, lookup: pa.ChunkedArray | None = None):
    """Distinct URLs (bytes; sources by first appearance, then the other targets), each row's source and target
    ids, and the node id of each URL in `lookup` (-1 where no link names it); rows with a blank URL are left out
    and counted in `stats`. The metadata's URLs are looked up by hashing them with the links' cells: at 1M links
    10 ms of CPU, where a second hash table (pc.index_in) took 50."""
    urls, src, tgt = pa.nulls(0, pa.binary()), np.empty(0, np.int32), np.empty(0, np.int32)
    found = np.full(0 if lookup is None else len(lookup), -1, np.int32)
    if table is None or not table.num_rows:
        return urls, src, tgt, found
    urls, ids = distinct_ids([table.column(0), table.column(1)] + ([] if lookup is None else [lookup]))
    src, tgt = ids[0], ids[1]
    in_links = int(max(src.max(), tgt.max())) + 1  # the lookup's own URLs come after every link's
    if lookup is not None:
        found = np.where(ids[2] < in_links, ids[2], -1)
    return _drop_blank(urls.slice(0, in_links), src, tgt, found, stats)


def _sorted_distinct(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Sources and targets of the distinct keys, sorted, without self-links; and how many distinct keys there were.
    Each half's edges are finished on its own core: no concatenated copy of the keys (8 bytes a link)."""
    # Timsort: crawl exports list a page's links together, and on such runs it is 5-15x faster than quicksort
    # (1M links of the benchmark's graph: 27 ms against 54 ms; on shuffled rows 20% slower).
    key.sort(kind="stable")
    first = np.empty(len(key), bool)
    first[:1] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    words = key.view("<u4")  # little-endian: the target is the low 32-bit word, the source the high one
    source, target = words[1::2], words[0::2]
    distinct = int(np.count_nonzero(first))
    # Self-links are dropped: a page linking to itself says nothing about the site's structure and draws nothing.
    first &= source != target
    return source[first], target[first], distinct


def distinct_edges(src: np.ndarray, tgt: np.ndarray, stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """The distinct edges without self-links, sorted by source then target; `stats` gets what was dropped."""
    key = src.astype("<u8")
    np.left_shift(key, np.uint64(32), out=key)
    np.bitwise_or(key, tgt, out=key, dtype=np.uint64, casting="unsafe")
    stats["edges_read"] = int(len(key))
    # Sources below and above the middle id are sorted apart on two cores; one follows the other.
    low = key < (np.uint64(int(src.max(initial=0)) // 2) << np.uint64(32))
    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(_sorted_distinct, [key[low], key[~low]]))
    del key, low
    distinct = sum(h[2] for h in halves)
    stats["duplicates"] = stats["edges_read"] - distinct
    source = np.concatenate([h[0] for h in halves]).astype(np.uint32, copy=False)
    target = np.concatenate([h[1] for h in halves]).astype(np.uint32, copy=False)
    stats["self_links"] = distinct - len(source)
    return source, target


def hubs_last(urls: pa.Array, source: np.ndarray, target: np.ndarray, found: np.ndarray):
    """Renumber nodes by inbound links, fewest first (ties keep first appearance): WebGL draws points in index
    order, so the most-linked pages are drawn on top instead of vanishing under their thousands of neighbours.
    Returns the renumbered URLs, edges and looked-up ids, the old id of each new node, and its inbound count."""
    n = len(urls)
    inbound = np.bincount(target, minlength=n)
    order = stable_order(inbound)
    new_id = np.empty(n, np.uint32)
    new_id[order] = np.arange(n, dtype=np.uint32)
    found = _renumber(found, new_id)
    return (urls.take(arrow_of(order)), new_id[source], new_id[target], found, order,
            inbound[order].astype(np.uint32))
