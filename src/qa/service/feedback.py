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

from qa.core.errors import QAError

# The cited sentence, as stored with a vote; a longer one is cut (the doc_id and sentence_index
# name it exactly).
MAX_EVIDENCE_CHARS = 2_000


class FeedbackFull(QAError, OSError):
    """The feedback file has reached QA_FEEDBACK_MAX_BYTES."""


class FeedbackLog:
    """Appends one JSON line per vote; safe for concurrent requests of one process and beyond.

    The lock orders writers within the process; O_APPEND with a single `write` of the whole line
    keeps lines from different processes whole, and fsync makes an acknowledged vote durable.
    A vote that would take the file past `max_bytes` is refused (FeedbackFull), not written:
    the votes already there are kept, and the operator moves the file away to collect more.
    """

    def __init__(self, path: Path, max_bytes: int | None = None) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def append(self, record: Mapping[str, Any]) -> None:
        """Append `record` as one line, durably; FeedbackFull once the file is full."""
        line = json_line(record, separators=(", ", ": ")).encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # Other processes may append between this check and the write: by a line each.
                size = os.fstat(fd).st_size
                if self.max_bytes is not None and size + len(line) > self.max_bytes:
                    raise FeedbackFull(
                        f"{self.path} has reached {self.max_bytes:,} bytes (QA_FEEDBACK_MAX_BYTES)"
                    )
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
        "evidence": evidence[:MAX_EVIDENCE_CHARS] if evidence is not None else None,
        "helpful": helpful,
    }
