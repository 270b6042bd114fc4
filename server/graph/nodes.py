"""Questions the viewer asks about nodes, answered from the cached node table: search, details, colour codes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import arrow_of, numpy_of
from .cache import GraphFiles
from .convert import read_nodes, read_table

FIND_LIMIT = 5000  # matches of one search walked in Python at most; more go to Arrow's scan
MISSING = 0xFFFFFFFF  # category code of a node without a value
MAX_CATEGORIES = 12  # colours a legend can tell apart; the rest share "other"
_open: dict = {}


def _opened(files: GraphFiles, header: dict) -> dict:
    """The node table and search index, kept open per cache build (the signature changes when it is rebuilt)."""
    key = (str(files.nodes), repr(header["source"]))
    if key not in _open:
        _open.clear()  # one graph open at a time is what a viewer needs; frees the previous mapping
        lower = read_table(files.search).column("url").combine_chunks()
        offsets = np.frombuffer(lower.buffers()[1], np.int32, count=len(lower) + 1, offset=lower.offset * 4)
        blob = lower.buffers()[2].to_pybytes() if len(lower) else b""
        _open[key] = {"table": read_nodes(files), "index": SearchIndex(lower, np.diff(offsets), blob, offsets)}
    return _open[key]


def node_table(files: GraphFiles, header: dict) -> pa.Table:
    return _opened(files, header)["table"]


def search_index(files: GraphFiles, header: dict) -> "SearchIndex":
    return _opened(files, header)["index"]


@dataclass(frozen=True)
class SearchIndex:
    """Lower-cased URLs by node id: as an Arrow array, their lengths, and their bytes end to end."""
    lower: pa.Array
    lengths: np.ndarray
    blob: bytes
    offsets: np.ndarray

    def rows(self, query: bytes) -> np.ndarray:
        """Ids of the URLs containing `query`. bytes.find (two-way search) skips through the text far faster than
        Arrow's byte-by-byte matcher for all but the shortest queries; a query found everywhere is left to Arrow,
        which is quick at those and needs no Python step per match."""
        if self.blob.count(query) > FIND_LIMIT:
            return numpy_of(pc.indices_nonzero(pc.match_substring(self.lower, query.decode())), np.uint64)
        found, at = [], self.blob.find(query)
        while at >= 0:
            found.append(at)
            at = self.blob.find(query, at + 1)
        starts = np.asarray(found, np.int64)
        row = np.searchsorted(self.offsets, starts, side="right") - 1
        return np.unique(row[starts + len(query) <= self.offsets[row + 1]])  # not across two URLs


def search(table: pa.Table, index: SearchIndex, query: str, limit: int = 20) -> list[dict]:
    """Nodes whose URL contains `query` (case-insensitive), exact matches first, then shortest URLs."""
    query = query.strip().lower()
    if not query:
        return []
    hits = index.rows(query.encode()).astype(np.int64)
    size = index.lengths[hits]
    exact = size == len(query.encode())  # contains the query and is as long: is the query
    best = hits[np.lexsort((hits, size, ~exact))[:limit]]
    urls = table.column("url").take(arrow_of(best)).to_pylist()
    return [{"id": int(i), "url": u} for i, u in zip(best, urls)]


def node_details(table: pa.Table, index: int) -> dict | None:
    if not 0 <= index < table.num_rows:
        return None
    return table.slice(index, 1).to_pylist()[0]


def categories(table: pa.Table, name: str) -> list[dict]:
    """A category column's values, most common first (ties by value), with their counts; empty values left out."""
    counts = pc.value_counts(table.column(name).combine_chunks()).to_pylist()
    counts = [c for c in counts if c["values"] not in (None, "")]
    counts.sort(key=lambda c: (-c["counts"], c["values"]))
    return [{"value": c["values"], "count": c["counts"]} for c in counts]


def category_codes(table: pa.Table, name: str) -> np.ndarray:
    """Per node: index into `categories(table, name)` (capped at MAX_CATEGORIES = "other"), MISSING when empty."""
    rank = {c["value"]: min(i, MAX_CATEGORIES) for i, c in enumerate(categories(table, name))}
    encoded = pc.dictionary_encode(table.column(name).combine_chunks())
    lookup = np.array([rank.get(v, MISSING) for v in encoded.dictionary.to_pylist()] + [MISSING], np.uint32)
    return lookup[numpy_of(encoded.indices, np.int32, fill=-1)]  # -1 (no value) picks the trailing MISSING


def number_values(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float32, NaN where empty."""
    return numpy_of(table.column(name).combine_chunks(), np.float64, fill=np.nan).astype(np.float32)


def column_bytes(table: pa.Table, name: str, kind: str) -> bytes:
    values = number_values(table, name) if kind == "number" else category_codes(table, name)
    return values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()
