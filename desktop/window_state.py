"""The window's size and position, remembered across launches in a small JSON file in the data folder."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from loguru import logger

from server.files import atomic_write

MIN_SIZE = (720, 480)
DEFAULT_SIZE = (1200, 820)


@dataclass
class WindowState:
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    x: int | None = None  # None: let the window manager place it
    y: int | None = None

    def clamped(self, screens: list[tuple[int, int, int, int]] = ()) -> "WindowState":
        """At least the minimum size; the position dropped if the top-left corner is on no screen (x, y, w, h)."""
        width, height = max(int(self.width), MIN_SIZE[0]), max(int(self.height), MIN_SIZE[1])
        x, y = self.x, self.y
        if x is not None and y is not None and screens:
            if not any(sx <= x < sx + sw and sy <= y < sy + sh for sx, sy, sw, sh in screens):
                x = y = None
        if screens:
            # A window bigger than the largest screen (a monitor was unplugged) shrinks to fit it.
            width = min(width, max(max(sw for _, _, sw, _ in screens), MIN_SIZE[0]))
            height = min(height, max(max(sh for _, _, _, sh in screens), MIN_SIZE[1]))
        return WindowState(width, height, x, y)


def state_path(data_dir: Path) -> Path:
    return Path(data_dir) / "window.json"


def load(data_dir: Path) -> WindowState:
    try:
        raw = json.loads(state_path(data_dir).read_text())
        state = WindowState(**{k: raw.get(k) for k in ("width", "height", "x", "y")})
        if not all(isinstance(v, int) for v in (state.width, state.height)):
            raise ValueError("size is not a pair of integers")
        if not all(v is None or isinstance(v, int) for v in (state.x, state.y)):
            raise ValueError("position is not a pair of integers")
        return state
    except FileNotFoundError:
        return WindowState()
    except (OSError, ValueError, TypeError) as e:
        # A damaged file only costs the remembered geometry, never the launch.
        logger.warning("ignoring the saved window geometry: {}", e)
        return WindowState()


def save(data_dir: Path, state: WindowState) -> None:
    atomic_write(state_path(data_dir), json.dumps(asdict(state)) + "\n")
