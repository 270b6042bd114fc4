"""Questions the viewer asks about nodes, answered from the cached node table and search index: details, colour
codes, and which index a search reads (server.graph.search)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import numpy_of
from .cache import GraphFiles
from .convert import read_nodes
from .search import SearchIndex

MISSING = 0xFFFFFFFF  # category code of a node without a value
MAX_CATEGORIES = 12  # colours a legend can tell apart; the rest share "other"
_open: dict = {}


def _opened(files: GraphFiles, header: dict) -> dict:
    """The node table and search index, kept open per cache build (the signature changes when it is rebuilt)."""
    key = (str(files.nodes), repr(header["source"]))
    if key not in _open:
        _open.clear()  # one graph open at a time is what a viewer needs; frees the previous mapping
        _open[key] = {"table": read_nodes(files), "index": SearchIndex.read(files.search)}
    return _open[key]


def node_table(files: GraphFiles, header: dict) -> pa.Table:
    return _opened(files, header)["table"]


def search_index(files: GraphFiles, header: dict) -> "SearchIndex":
    return _opened(files, header)["index"]


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
