"""The log file: `pipedeck.log` in the data folder, rotated, where error cards send the user."""
from __future__ import annotations

import sys
from pathlib import Path

from loguru import logger

FILENAME = "pipedeck.log"
FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} {level: <8} {name}:{line} {message}"
# `logger.bind(quiet=True)`: a fact the user need not act on (e.g. the window drawn in software). It goes to the
# log file; the terminal shows it only with --verbose (see terminal()).
QUIET = "quiet"
_sinks: dict[Path, int] = {}
_terminal: int | None = None


def log_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILENAME


def log_to_file(data_dir: Path) -> Path:
    """Add the data folder's log file to loguru's sinks (once per file): 1 MB per file, the last three kept.

    `enqueue` hands each message to loguru's writer thread, so logging never blocks the event loop on the disk."""
    path = log_path(data_dir)
    if path not in _sinks:
        try:
            _sinks[path] = logger.add(path, level="INFO", rotation="1 MB", retention=3, enqueue=True,
                                      encoding="utf-8", format=FORMAT)
        except OSError as e:  # a read-only data folder: the app still runs, logging to the terminal only
            logger.warning("cannot write the log file {}: {}", path, e)
    return path


def stop_logging_to_file(data_dir: Path) -> None:
    """Flush and close the file (at shutdown, so the last messages are on disk before the process ends)."""
    if (sink := _sinks.pop(log_path(data_dir), None)) is not None:
        logger.remove(sink)


def terminal(verbose) -> None:
    """Loguru's terminal sink (its default, on stderr), leaving out quiet records unless `verbose()` says so."""
    global _terminal
    if _terminal is not None:
        return
    try:
        logger.remove(0)  # the default sink loguru adds on import
    except ValueError:
        pass
    _terminal = logger.add(sys.stderr, filter=lambda record: not record["extra"].get(QUIET) or verbose())
