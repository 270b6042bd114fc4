"""The conversation in SQLite: every message with its role and whether its answer finished."""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.pipeline import now

DONE, STREAMING, INTERRUPTED = "done", "streaming", "interrupted"
HISTORY_LIMIT = 200
CONTEXT_LIMIT = 20  # messages sent back to the model: enough for a conversation, small enough for a 0.5B model


@dataclass
class ChatMessage:
    id: int
    role: str  # user, assistant, narration (what a workflow is doing), tool (an action taken), error
    content: str
    status: str
    created: str
    thinking: str = ""  # a thinking model's reasoning before its answer (Ollama's message.thinking)


class ChatStore:
    def __init__(self, db):
        self.db = db
        self.table = db.create(ChatMessage, pk="id", transform=True)  # transform: adds columns older files lack
        self.live: dict[int, list[str]] = {}  # parts of answers still streaming, newer than the last save
        # A process that died mid-answer left rows 'streaming': they will never finish.
        db.execute("UPDATE chat_message SET status = ? WHERE status = ?", [INTERRUPTED, STREAMING])

    def add(self, role: str, content: str, status: str = DONE) -> ChatMessage:
        # One statement: fastlite's insert re-read the table's columns and keys each time, and a workflow's every
        # answer adds a narration message here.
        msg = ChatMessage(id=None, role=role, content=content, status=status, created=now())
        msg.id = self.db.conn.execute(
            "INSERT INTO chat_message (role, content, status, created, thinking) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [msg.role, msg.content, msg.status, msg.created, msg.thinking]).fetchall()[0][0]
        return msg

    def save(self, mid: int, content: str, status: str | None = None, thinking: str | None = None) -> ChatMessage:
        changes = {"content": content} | ({"status": status} if status else {})
        changes |= {"thinking": thinking} if thinking else {}
        if status and status != STREAMING:
            self.live.pop(mid, None)
        return self.table.update(id=mid, **changes)

    def delete(self, mid: int) -> None:
        self.live.pop(mid, None)
        self.table.delete(mid)

    def history(self, limit: int = HISTORY_LIMIT) -> list[ChatMessage]:
        rows = self.table(order_by="id DESC", limit=limit)
        for m in rows:
            if m.id in self.live:
                m.content = "".join(self.live[m.id])
        return rows[::-1]

    def clear(self) -> None:
        self.live.clear()
        self.db.execute("DELETE FROM chat_message")

    def context(self, upto: int | None = None) -> list[dict]:
        """The recent user and assistant turns, as Ollama's chat API takes them, ending with user message `upto`.

        Messages the user sent after `upto` wait for their own answers; answers given since are to earlier ones."""
        where = "role IN ('user', 'assistant') AND content != ''"
        args: list = []
        if upto is not None:
            where += " AND (role = 'assistant' OR id < ?)"
            args = [upto]
        rows = self.table(where=where, where_args=args, order_by="id DESC", limit=CONTEXT_LIMIT - 1)[::-1]
        if upto is not None:
            rows += self.table(where="id = ?", where_args=[upto])
        return [{"role": m.role, "content": m.content} for m in rows]
