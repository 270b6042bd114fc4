"""Every open chat panel's WebSocket: what one answer streams, every window sees."""
from __future__ import annotations

from fasthtml.common import to_xml
from loguru import logger


class Hub:
    def __init__(self):
        self.clients: dict[int, object] = {}  # id(websocket) -> the websocket

    def join(self, ws) -> None:
        self.clients[id(ws)] = ws

    def leave(self, ws) -> None:
        self.clients.pop(id(ws), None)

    async def send(self, *fts) -> None:
        """Send HTML fragments (out-of-band swaps) to every connected panel; drop panels that went away."""
        if not self.clients:
            return
        html = "".join(to_xml(ft) for ft in fts if ft is not None)
        for key, ws in list(self.clients.items()):
            try:
                await ws.send_text(html)
            except Exception as e:  # a closed tab: forget it, the others still get the message
                logger.debug("chat panel gone: {}", e)
                self.clients.pop(key, None)
