"""Arrow ↔ numpy through the raw buffers.

pyarrow's own `to_numpy`, `pa.array` and Python scalars import pandas on first use (seconds on a cold start,
and the desktop app otherwise never loads it); these helpers read and build the buffers directly instead."""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def _bits(arr: pa.Array, buffer: int) -> np.ndarray:
    """One of the array's bitmaps (0: validity; 1: a boolean array's values) as numpy bools."""
    bits = np.frombuffer(arr.buffers()[buffer], np.uint8)
    return np.unpackbits(bits, count=arr.offset + len(arr), bitorder="little")[arr.offset:].view(bool)


def _valid(arr: pa.Array) -> np.ndarray:
    return _bits(arr, 0)


def valid_mask(arr: pa.Array) -> np.ndarray:
    """True where a value is present."""
    return _valid(arr) if arr.null_count else np.ones(len(arr), bool)


def bools_of(arr: pa.Array) -> np.ndarray:
    """A boolean array's values as numpy bools (Arrow packs them in bits); nulls read as False."""
    values = _bits(arr, 1)
    return values & _valid(arr) if arr.null_count else values


def numpy_of(arr: pa.Array, dtype, fill=None) -> np.ndarray:
    """A fixed-width array's values (a copy); nulls become `fill`."""
    dtype = np.dtype(dtype)
    data = arr.buffers()[1]
    values = (np.frombuffer(data, dtype, count=len(arr), offset=arr.offset * dtype.itemsize).copy()
              if len(arr) else np.empty(0, dtype))
    if arr.null_count:
        values[~_valid(arr)] = fill
    return values


def arrow_of(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy array as an Arrow array (nulls where `valid` is False)."""
    values = np.ascontiguousarray(values)
    nulls = None if valid is None or valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    data = np.packbits(values, bitorder="little") if values.dtype == bool else values  # Arrow booleans are bits
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [nulls, pa.py_buffer(data)],
                                 null_count=-1 if nulls is not None else 0)


def strings_of(texts: list[str | None]) -> pa.Array:
    """Python strings (or None) as an Arrow string array."""
    encoded = [(t or "").encode() for t in texts]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    valid = np.array([t is not None for t in texts], bool)
    nulls = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = [nulls, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, null_count=-1 if nulls is not None else 0)


def byte_lengths(arr: pa.Array) -> np.ndarray:
    """Each binary/string value's length in bytes (0 for null)."""
    offsets = np.frombuffer(arr.buffers()[1], np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    return np.diff(offsets)


def stable_order(counts: np.ndarray) -> np.ndarray:
    """np.argsort(counts, kind="stable") for non-negative integers, by numpy's radix sort of 16-bit keys: counts
    capped at 65535, then the few above it ordered among themselves (2M pages' inbound counts: 22 ms, timsort 76)."""
    capped = np.minimum(counts, 0xFFFF).astype(np.uint16)
    order = np.argsort(capped, kind="stable")
    over = int(np.count_nonzero(capped == 0xFFFF))
    if over:
        top = order[len(order) - over:]
        top[:] = top[np.argsort(counts[top], kind="stable")]
    return order
