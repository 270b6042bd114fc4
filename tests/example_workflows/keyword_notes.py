"""Keyword notes: a new three-step workflow with a textarea, as a user writes one (the engine does the rest)."""
from server.engine import Choice, LongText, Text, Workflow


class KeywordNotes(Workflow):
    name = "notes"
    title = "Keyword notes"
    description = "A keyword, what searchers want, and your notes on it."
    steps = [Text("keyword", "Keyword", example="running shoes"),
             Choice("intent", "Search intent", {"info": "Informational", "buy": "Transactional"}, radios=True),
             LongText("note", "Notes", max_length=2000)]
