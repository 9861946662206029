"""Feedback on answers: each 👍 / 👎 from the chat page appended to a JSON-lines file.

`qa feedback export` (qa.evaluation.feedback) reads the file back into gold-set candidates.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class FeedbackLog:
    """Appends one JSON line per vote; safe for concurrent requests of one process and beyond.

    The lock orders writers within the process; O_APPEND with a single `write` of the whole line
    keeps lines from different processes whole, and fsync makes an acknowledged vote durable.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: Mapping[str, Any]) -> None:
        line = json_line(record, separators=(", ", ": ")).encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, line)
                if written != len(line):  # only on a full disk or similar; never leave half a line
                    raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
                os.fsync(fd)
            finally:
                os.close(fd)


# Legal unescaped in JSON, but line breaks to str.splitlines (and to readers built on it):
# written escaped, so each record stays on its one line for every reader.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(record: object, **options: Any) -> str:
    """`record` as one JSON line, ending in a newline, with no other character that any
    reader could take for a line break."""
    return json.dumps(record, ensure_ascii=False, **options).translate(_LINE_BREAKS) + "\n"


def feedback_record(
    *,
    question: str,
    answer: str | None,
    doc_id: str | None,
    sentence_index: int | None,
    evidence: str | None,
    helpful: bool,
) -> dict[str, Any]:
    """One line of the feedback file; `evidence` is the cited sentence's text when known."""
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": question,
        "answer": answer,
        "doc_id": doc_id,
        "sentence_index": sentence_index,
        "evidence": evidence,
        "helpful": helpful,
    }
