"""The metadata CSV joined to a graph's nodes: its columns aligned to node ids (numbers where every value is one),
and the metadata rows of orphan pages."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .arrays import arrow_of, byte_lengths, numpy_of
from .figures import FIGURES, orphan_rows
from .links import decode, header_names, read_bytes_table

NO_META = {"meta_rows": 0, "meta_matched": 0, "meta_unknown": 0}


def read_meta(path: Path) -> tuple[list[str], pa.Table] | None:
    """The metadata CSV's column names and cells as bytes (None without a file, a second column or rows). It
    needs nothing from the links, so the conversion reads it while the links are hashed."""
    names = header_names(path) if path.exists() else []
    if len(names) < 2:
        return None
    table = read_bytes_table(path, names, {})
    return (names, table) if table.num_rows else None


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


def join_meta(meta: tuple[list[str], pa.Table] | None, node_of: np.ndarray,
              inbound: np.ndarray) -> tuple[dict[str, pa.Array], dict, pa.Table | None]:
    """Metadata columns aligned to the graph's nodes, given each metadata row's node (-1 for a URL no link
    names: ignored there), and the metadata rows of orphan pages (None without metadata)."""
    stats = dict(NO_META)
    if meta is None:
        return {}, stats, None
    names, table = meta
    stats["meta_rows"] = table.num_rows
    # Arrays, not the table: an empty filtered table's columns have no chunks, and combining none loads pandas.
    whole = [table.column(i).combine_chunks() for i in range(table.num_columns)]
    stats["meta_unknown"] = int((node_of < 0).sum())
    # Each node's first metadata row: scattered in reverse, so the first row is written last and stays.
    known = np.flatnonzero(node_of >= 0)[::-1]
    first = np.full(len(inbound), -1, np.int64)
    first[node_of[known]] = known
    stats["meta_matched"] = int((first >= 0).sum())
    row = arrow_of(first.clip(0), first >= 0)
    columns = {}
    for i, name in enumerate(names[1:], start=1):
        if i >= table.num_columns or not name or name == "url" or name in FIGURES:
            continue
        text = decode(whole[i].take(row))
        number = numeric(text)
        columns[name] = number if number is not None else text
    orphans = arrow_of(orphan_rows(node_of, inbound))
    return columns, stats, pa.table([decode(a.take(orphans)) for a in whole], names=["url"] + names[1:len(whole)])
