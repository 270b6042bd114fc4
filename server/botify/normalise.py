"""Export files as Botify writes them (gzip, maybe a `sep=,` line, maybe a header row) turned into ours, streaming.

Whether those lines come depends on `formatter_config`, whose documented defaults and observed answers disagree
(spec botify.md), so neither is assumed: columns are ours, by their position in the query, and every data row is
copied byte for byte."""
from __future__ import annotations

import asyncio
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_path
from .client import BotifyError

MAX_OUT = 4 << 20  # decompress at most this much per step, so a highly compressed chunk cannot balloon memory


class ExportFileError(BotifyError):
    """The downloaded file is cut short or not what Botify writes."""


@dataclass
class Written:
    rows: int
    bytes: int


def looks_like_data(line: bytes) -> bool:
    """Every row of our exports starts with a page's full URL; a header row starts with a column name instead."""
    first = line.lstrip(b"\xef\xbb\xbf").lstrip(b'"').lower()
    return first.startswith((b"http://", b"https://"))


class Normaliser:
    """Feed gzip bytes as they arrive; writes the CSV with our header and every data row byte for byte."""

    def __init__(self, out, columns: list[str]):
        self.out = out
        self.header = ",".join(columns).encode()
        self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.head = b""  # bytes before the header row ends
        self.in_body = False
        self.rows = 0
        self.written = 0
        self.last = b"\n"

    def feed(self, chunk: bytes) -> None:
        data = chunk
        while data:
            try:
                text = self.inflate.decompress(data, MAX_OUT)
            except zlib.error:
                raise ExportFileError("The downloaded export is not a valid gzip file. Retry the download.") from None
            self._text(text)
            data = self.inflate.unconsumed_tail
            if self.inflate.eof and self.inflate.unused_data:
                # Concatenated gzip members are one file (gzip -dc reads them the same way).
                data = self.inflate.unused_data
                self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def _text(self, text: bytes) -> None:
        if not text:
            return
        if self.in_body:
            self._write(text)
            return
        self.head += text
        while not self.in_body:
            end = self.head.find(b"\n")
            if end < 0:
                if len(self.head) > 1 << 20:
                    raise ExportFileError("The export's first megabyte holds no line break: it is not a CSV. "
                                          "Retry the download.")
                return
            line, rest = self.head[:end + 1], self.head[end + 1:]
            self.head = rest
            if line.lstrip(b"\xef\xbb\xbf").startswith(b"sep="):
                continue
            self._begin(line)
        rest, self.head = self.head, b""
        self._write(rest)

    def _begin(self, first: bytes) -> None:
        """Write our header; the first line after any `sep=` is a data row unless it looks like a header."""
        newline = b"\r\n" if first.endswith(b"\r\n") else b"\n"
        self.out.write(self.header + newline)
        self.written += len(self.header) + len(newline)
        self.in_body = True
        if looks_like_data(first):
            self._write(first.removeprefix(b"\xef\xbb\xbf"))  # a byte-order mark marks the file, not the row

    def _write(self, data: bytes) -> None:
        if data:
            self.out.write(data)
            self.rows += data.count(b"\n")
            self.written += len(data)
            self.last = data[-1:]

    def close(self) -> Written:
        if not self.inflate.eof:
            raise ExportFileError("The download was cut short (the gzip file is incomplete). Retry the download.")
        if not self.in_body:
            line, self.head = self.head, b""
            if line.strip() and not line.lstrip(b"\xef\xbb\xbf").startswith(b"sep="):
                self._begin(line)  # one line without a final newline: a lone header, or a lone data row
            else:  # nothing at all, or only `sep=`: an export without rows (headers may be switched off)
                self.out.write(self.header + b"\n")
                self.written += len(self.header) + 1
                self.in_body = True
        if self.last not in (b"\n", b""):
            self.rows += 1  # a last row without a trailing newline
        return Written(self.rows, self.written)


async def download_export(chunks, final: Path, columns: list[str], progress=None) -> Written:
    """Stream `chunks` (async `(bytes, total)`) through a Normaliser into `final`, renamed only when complete.

    Decompression runs in a worker thread while the next chunk downloads, so the event loop never blocks."""
    with atomic_path(final) as tmp:
        with open(tmp, "wb", buffering=1 << 20) as out:
            norm = Normaliser(out, columns)
            pending = None
            received = 0
            try:
                async for chunk, total in chunks:
                    if pending:
                        await pending
                    pending = asyncio.ensure_future(asyncio.to_thread(norm.feed, chunk))
                    received += len(chunk)
                    if progress:
                        progress(received, total)
                if pending:
                    await pending
            except BaseException:
                if pending and not pending.done():
                    # The worker may still write into the file; let it finish before the file is removed.
                    await asyncio.shield(asyncio.wait([pending]))
                raise
            written = norm.close()
            out.flush()
            await asyncio.to_thread(os.fsync, out.fileno())
    return written


def normalise_file(src: Path, final: Path, columns: list[str], chunk_size: int = 1 << 20) -> Written:
    """The same normalisation from a `.gz` file on disk, in the calling thread."""
    with atomic_path(final) as tmp, open(src, "rb") as raw, open(tmp, "wb", buffering=1 << 20) as out:
        norm = Normaliser(out, columns)
        while chunk := raw.read(chunk_size):
            norm.feed(chunk)
        return norm.close()
