"""The encoder on ONNX Runtime: exported once from the bundled weights, then served without torch.

`export_encoder` turns the verified sentence-transformers folder into `model.onnx` (fp32) and,
for the default `onnx-int8` variant, a dynamically quantised copy (int8 weights, activations
quantised per call). Both are cached by the sha256 of the source weights and the recipe version,
so the export runs once per machine. Export needs torch and `onnx`; serving needs only
onnxruntime, `tokenizers` and numpy, which is what makes a server start in a second and stay
small.

`OnnxEmbedder` repeats the sentence-transformers pipeline of all-MiniLM-L6-v2 step by step:
WordPiece tokens (truncated at `max_seq_length`), the transformer, mean pooling over the attention
mask, L2 normalisation.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.embed.model import ModelError, ModelInfo, force_offline, sha256_file, verify_model

if TYPE_CHECKING:
    from numpy.typing import NDArray

ONNX_VARIANTS = ("onnx-int8", "onnx-fp32")
# Bump when the export steps change, so caches made by an older recipe are not reused.
RECIPE = 1
OPSET = 17
EXPORT_META = "export.json"

_log = logging.getLogger("qa.encoder")


@dataclass(frozen=True, slots=True)
class Exported:
    """An exported encoder in the cache: the .onnx file, its hash and what it was made from."""

    path: Path
    sha256: str
    name: str  # the model's name, as in the manifest
    source_sha256: str
    variant: str
    seconds: float  # export time; 0.0 when it came from the cache


def default_cache() -> Path:
    """`$XDG_CACHE_HOME/qa/encoders` (or ~/.cache/...): one export per machine, not per index."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa" / "encoders"


def _folder(cache: Path, variant: str, source_sha256: str) -> Path:
    return cache / f"{variant}-{source_sha256[:16]}-r{RECIPE}"


def export_encoder(
    model_dir: Path | None,
    variant: str,
    cache: Path | None = None,
    *,
    verify: bool = True,
    log: Callable[[str], None] | None = None,
) -> Exported:
    """The cached ONNX export of `model_dir` (default: the bundled model), made if missing.

    The source weights are sha256-checked first (the bundled ones against the pinned hash), and
    the cached .onnx against the hash recorded when it was written; a mismatch re-exports.
    """
    if variant not in ONNX_VARIANTS:
        raise ModelError(f"unknown ONNX encoder {variant!r}; choose one of {ONNX_VARIANTS}")
    source, name, source_sha = verify_model(model_dir)
    cache = cache or default_cache()
    log = log or _log.info
    folder = _folder(cache, variant, source_sha)
    cached = _cached(folder, name, source_sha, verify)
    if cached is not None:
        return cached
    cache.mkdir(parents=True, exist_ok=True)
    # Several server workers may start at once: one exports, the others wait and reuse it.
    with (cache / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            cached = _cached(folder, name, source_sha, verify)
            if cached is not None:
                return cached
            log(f"exporting the {variant} encoder to {folder} (once per machine)")
            started = time.perf_counter()
            staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
            try:
                onnx_path = _export(source, staging, quantize=variant == "onnx-int8")
                for extra in ("tokenizer.json", "sentence_bert_config.json"):
                    if (source / extra).is_file():
                        shutil.copy2(source / extra, staging / extra)
                if (source / "1_Pooling" / "config.json").is_file():
                    shutil.copy2(source / "1_Pooling" / "config.json", staging / "pooling.json")
                digest = sha256_file(onnx_path)
                # The tokenizer and pooling settings shape the vectors as much as the weights.
                extras = sorted(p.name for p in staging.iterdir() if p != onnx_path)
                meta = {
                    "variant": variant,
                    "file": onnx_path.name,
                    "sha256": digest,
                    "files": {n: sha256_file(staging / n) for n in extras},
                    "source": str(source),
                    "source_sha256": source_sha,
                    "recipe": RECIPE,
                    "opset": OPSET,
                    "libraries": _versions(),
                    "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
                (staging / EXPORT_META).write_text(json.dumps(meta, indent=2) + "\n")
                shutil.rmtree(folder, ignore_errors=True)
                staging.rename(folder)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            seconds = time.perf_counter() - started
            log(f"exported the {variant} encoder in {seconds:.1f} s")
            return Exported(folder / onnx_path.name, digest, name, source_sha, variant, seconds)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cached(folder: Path, name: str, source_sha: str, verify: bool) -> Exported | None:
    meta = _json(folder / EXPORT_META)  # {} when missing or unreadable
    if meta.get("source_sha256") != source_sha or meta.get("recipe") != RECIPE:
        return None
    if not isinstance(meta.get("files"), dict):  # written before file hashes were recorded
        return None
    path = folder / str(meta.get("file", ""))
    if not path.is_file() or not (folder / "tokenizer.json").is_file():
        return None
    if verify and sha256_file(path) != meta.get("sha256"):
        return None
    for extra, digest in meta["files"].items():
        if not (folder / extra).is_file() or (verify and sha256_file(folder / extra) != digest):
            return None
    return Exported(path, str(meta["sha256"]), name, source_sha, str(meta["variant"]), 0.0)


def _versions() -> dict[str, str]:
    from qa.core.versions import library_versions

    return library_versions(("torch", "transformers", "onnx", "onnxruntime"))


def _export(source: Path, out: Path, *, quantize: bool) -> Path:
    """Trace the transformer to ONNX (and quantise it); torch is imported only here."""
    import warnings

    force_offline()
    try:
        import torch
        from transformers import AutoModel
    except ImportError as err:  # pragma: no cover - both are dependencies of qa
        raise ModelError(f"exporting the ONNX encoder needs torch and transformers: {err}") from err

    # Eager attention traces to plain MatMul/Softmax, which ONNX Runtime fuses and quantises.
    model = AutoModel.from_pretrained(
        str(source), local_files_only=True, attn_implementation="eager"
    ).eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            result = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return result.last_hidden_state  # type: ignore[no-any-return]

    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    example = torch.ones(2, 16, dtype=torch.long)
    fp32 = out / "model.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about shapes it treats as constants
        # The TorchScript exporter needs only the `onnx` package (the dynamo one wants more).
        torch.onnx.export(
            Encoder(model),
            (example, torch.ones_like(example), torch.zeros_like(example)),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    if not quantize:
        return fp32
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = out / "model_int8.onnx"
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser warns through the root logger about pre-processing
    try:
        # Per-channel int8 weights keep cosine to fp32 >= 0.98; the traced graph lacks some type
        # annotations, so the quantiser is told that untyped tensors are float.
        quantize_dynamic(
            fp32,
            int8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
        )
    finally:
        root.setLevel(level)
    fp32.unlink()
    return int8


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime with the `tokenizers` library; never imports torch.

    Each call to the network runs on one thread: a single question is too small to gain from
    splitting (measured: 1.2 ms on one thread, 1.5 ms on two), and concurrent questions then use
    one core each without oversubscribing. Long inputs (index builds) run on `threads` threads
    at once instead; ONNX Runtime releases the GIL, so they scale with the cores.
    """

    def __init__(
        self,
        exported: Exported,
        *,
        threads: int = 1,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = exported.path.parent
        config = _json(folder / "sentence_bert_config.json")
        pooling = _json(folder / "pooling.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens", False):
            raise ModelError(
                f"the ONNX encoder supports mean pooling only; {exported.path} uses another "
                "pooling (set QA_ENCODER=torch)"
            )
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # As sentence-transformers does: truncate at max_seq_length, pad to the longest in a batch.
        self._tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
        pad = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=pad if pad is not None else 0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning workers would burn the cores that other requests need between calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(exported.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception kinds
            raise ModelError(f"cannot load the ONNX encoder {exported.path}: {err}") from err
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        dimension = int(self._session.get_outputs()[0].shape[-1] or 0)
        if not dimension:
            dimension = int(self._run(["probe"]).shape[1])
        self._info = ModelInfo(
            exported.name,
            str(exported.path),
            exported.sha256,
            dimension,
            encoder=exported.variant,
            source_sha256=exported.source_sha256,
        )

    @property
    def fingerprint(self) -> ModelInfo:
        return self._info

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]:
        """Each text is embedded alone, so its vector never depends on what it was sent with.

        The int8 network quantises activations with one range per call: in a batch, a text's
        vector moved with its batch-mates (cosine 0.980-0.999 to itself alone). One text per
        call also pads nothing and keeps ONNX Runtime's buffers at one sentence's size. Long
        inputs are split into `threads` runs of single-text calls. `batch_size` is accepted for
        the `Embedder` protocol and not used (measured: 362 texts/s alone, 194 in batches of 64).
        """
        out = np.zeros((len(texts), self._info.dimension), dtype=np.float32)
        if not texts:
            return out
        workers = min(self._threads, len(texts))
        if workers == 1:
            out[:] = self._run_each(texts)
            return out
        # Contiguous runs, one per worker; each text still goes to the network alone.
        bounds = np.linspace(0, len(texts), workers + 1).astype(int)
        runs = [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]
        results = self._executor().map(lambda run: self._run_each(texts[run[0] : run[1]]), runs)
        for (lo, hi), vectors in zip(runs, results, strict=True):
            out[lo:hi] = vectors
        return out

    def _run_each(self, texts: list[str]) -> NDArray[np.float32]:
        return np.concatenate([self._run([text]) for text in texts], axis=0)

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="qa-encode")
            return self._pool

    def _run(self, texts: list[str]) -> NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        # Mean over real tokens, then unit length (inner product = cosine downstream).
        weights = mask[:, :, None].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)


def _json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or {} when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
