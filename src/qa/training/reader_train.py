"""The reader's training loop: seeded, resumable from checkpoints, with a progress bar.

Same data, configuration and seed give the same weights: the heads are initialised after
`torch.manual_seed(seed)`, each epoch's lists come from `epoch_lists(data, seed, epoch)`, the
thread count is fixed, and a checkpoint holds the model, optimiser, schedule, data position and
torch's random state (dropout), so a run stopped and resumed ends where an uninterrupted one
does. A checkpoint is written every `checkpoint_minutes` under the work folder, and one made by
another configuration or other data is refused rather than silently continued.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from qa.answer.reader_inputs import PairEncoder
from qa.training.pooling import Pooling
from qa.training.reader_data import ReaderData, ReaderList
from qa.training.reader_lists import Mix, epoch_lists
from qa.training.reader_model import ReaderNet, collate, loss

CHECKPOINT = "checkpoint.pt"
FINAL = "final.pt"


@dataclass(frozen=True)
class TrainConfig:
    """What decides the trained weights (and the seconds between checkpoints, which do not)."""

    layers: int = 6
    max_len: int = 96
    steps: int = 1000
    lists_per_step: int = 8
    lr: float = 5e-5
    head_lr: float = 5e-4
    warmup: float = 0.06
    span_weight: float = 1.0
    pooling: str = Pooling.CLS.value  # what the relevance head reads
    freeze_word_embeddings: bool = True  # 30k x 384 rows: their update costs time, little else
    seed: int = 0
    threads: int = 2
    mix: Mix = field(default_factory=Mix)
    checkpoint_minutes: float = 5.0
    time_budget_minutes: float | None = None  # stop early (and keep the weights) past this

    def fingerprint(self, data: ReaderData) -> str:
        """sha256 of what the weights depend on: the configuration and the data."""
        config = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("checkpoint_minutes", "time_budget_minutes")
        }
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
        for s in data.sentences:
            digest.update(f"{s.source}\t{s.text}\n".encode())
        for r in data.records:
            line = f"{r.question}\t{r.source}\t{r.positives}\t{r.answer}\t{r.plausible}"
            digest.update(f"{line}\t{r.hard}\t{r.foreign}\n".encode())
        return digest.hexdigest()


@dataclass
class TrainResult:
    """The trained network and how the run went."""

    net: ReaderNet
    steps: int
    finished: bool  # all `steps` ran (False: stopped by `stop_after` or the time budget)
    seconds: float  # training time over all sessions, checkpoints included
    epochs: float
    losses: list[float]  # mean list loss per 50 steps


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(
    data: ReaderData,
    make_net: Callable[[], ReaderNet],
    encoder: PairEncoder,
    config: TrainConfig,
    work: Path,
    *,
    stop_after: int | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train (or resume, or reload the finished run from `work`); `stop_after` ends this call
    after that many steps with a checkpoint, as an interruption would."""
    torch.set_num_threads(config.threads)
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    torch.manual_seed(config.seed)
    net = make_net()
    net.to(device())
    fingerprint = config.fingerprint(data)
    work.mkdir(parents=True, exist_ok=True)
    final = _load(work / FINAL, fingerprint)
    if final is not None:
        net.load_state_dict(final["model"])
        log(f"reader: the finished run in {work} is reused (delete {FINAL} to train again)")
        return TrainResult(
            net.eval(), final["step"], final["finished"], final["seconds"], final["epochs"], []
        )
    session = _Session(data, net, encoder, config, work, fingerprint)
    if session.resume():
        log(f"reader: resuming from step {session.state['step']} of {config.steps}")
    state = session.state
    started = last_save = time.monotonic()
    base_seconds = float(state["seconds"])
    bar = _bar(config.steps, int(state["step"]), progress)
    ran = 0
    try:
        while state["step"] < config.steps:
            list_loss = session.step()
            ran += 1
            bar.update(1)
            bar.set_postfix(loss=f"{list_loss:.3f}", epoch=state["epoch"], refresh=False)
            now = time.monotonic()
            state["seconds"] = base_seconds + now - started
            budget = config.time_budget_minutes
            out_of_time = budget is not None and state["seconds"] > budget * 60
            stop = (stop_after is not None and ran >= stop_after) or out_of_time
            if stop or now - last_save > config.checkpoint_minutes * 60:
                session.save_checkpoint()
                last_save = now
            if stop:
                if out_of_time:
                    log(f"reader: time budget of {budget} min spent at step {state['step']}")
                break
    finally:
        bar.close()
    finished = state["step"] >= config.steps
    if finished or (config.time_budget_minutes is not None and stop_after is None):
        session.save_final(finished)
    net.eval()
    return TrainResult(
        net, state["step"], finished, state["seconds"], session.epochs(), state["losses"]
    )


class _Session:
    """The optimiser, schedule and data position of one training run, and its checkpoints."""

    def __init__(
        self,
        data: ReaderData,
        net: ReaderNet,
        encoder: PairEncoder,
        config: TrainConfig,
        work: Path,
        fingerprint: str,
    ) -> None:
        self.data, self.net, self.encoder, self.config = data, net, encoder, config
        self.work, self.fingerprint = work, fingerprint
        self.dev = next(net.parameters()).device
        self.optimiser = _optimiser(net, config)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimiser, _lr_factor(config))
        self.state: dict[str, Any] = {
            "step": 0,
            "epoch": 0,
            "offset": 0,
            "seconds": 0.0,
            "losses": [],
        }
        self._lists: tuple[int, list[ReaderList]] = (-1, [])
        self._window: list[float] = []

    def resume(self) -> bool:
        """Load the checkpoint in the work folder, if any."""
        saved = _load(self.work / CHECKPOINT, self.fingerprint)
        if saved is None:
            return False
        self.net.load_state_dict(saved["model"])
        self.optimiser.load_state_dict(saved["optimizer"])
        self.schedule.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])
        if self.dev.type == "cuda" and saved.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(saved["cuda_rng"])
        self.state = {k: saved[k] for k in self.state}
        return True

    def _chunk(self) -> list[ReaderList]:
        """The next `lists_per_step` lists (an epoch's remainder is skipped)."""
        state, config = self.state, self.config
        while True:
            if self._lists[0] != state["epoch"]:
                lists = epoch_lists(self.data, config.seed, state["epoch"], config.mix)
                self._lists = (state["epoch"], lists)
            lists = self._lists[1]
            if state["offset"] + config.lists_per_step <= len(lists):
                return lists[state["offset"] : state["offset"] + config.lists_per_step]
            state["epoch"], state["offset"] = state["epoch"] + 1, 0

    def step(self) -> float:
        """One optimiser step; returns its list loss."""
        chunk = self._chunk()
        self.net.train()
        batch = collate(chunk, self.encoder)
        self.optimiser.zero_grad(set_to_none=True)
        total, list_loss = loss(self.net, _to(batch, self.dev), self.config.span_weight)
        total.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.optimiser.step()
        self.schedule.step()
        self.state["step"] += 1
        self.state["offset"] += self.config.lists_per_step
        self._window.append(list_loss)
        if len(self._window) == 50:
            self.state["losses"].append(sum(self._window) / len(self._window))
            self._window = []
        return list_loss

    def epochs(self) -> float:
        return float(self.state["epoch"] + self.state["offset"] / max(1, len(self._lists[1])))

    def save_checkpoint(self) -> None:
        _atomic_save(
            {
                "fingerprint": self.fingerprint,
                "model": self.net.state_dict(),
                "optimizer": self.optimiser.state_dict(),
                "scheduler": self.schedule.state_dict(),
                "rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state() if self.dev.type == "cuda" else None,
                **self.state,
            },
            self.work / CHECKPOINT,
        )

    def save_final(self, finished: bool) -> None:
        _atomic_save(
            {
                "fingerprint": self.fingerprint,
                "model": self.net.state_dict(),
                "step": self.state["step"],
                "finished": finished,
                "seconds": self.state["seconds"],
                "epochs": self.epochs(),
            },
            self.work / FINAL,
        )


def _optimiser(net: ReaderNet, config: TrainConfig) -> torch.optim.Optimizer:
    for name, p in net.named_parameters():
        if config.freeze_word_embeddings and name.endswith("word_embeddings.weight"):
            p.requires_grad_(False)
    encoder = [p for n, p in net.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    heads = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    return torch.optim.AdamW(
        [{"params": encoder, "lr": config.lr}, {"params": heads, "lr": config.head_lr}],
        weight_decay=0.01,
    )


def _lr_factor(config: TrainConfig) -> Callable[[int], float]:
    warm = max(1, round(config.warmup * config.steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (config.steps - step) / max(1, config.steps - warm))

    return factor


def _to(batch: Any, dev: torch.device) -> Any:
    if dev.type == "cpu":
        return batch
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        setattr(batch, name, getattr(batch, name).to(dev))
    return batch


def _bar(total: int, initial: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc="reader",
        unit="step",
        disable=not enabled,
        mininterval=5.0,
        smoothing=0.05,
    )


def _atomic_save(obj: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _load(path: Path, fingerprint: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    saved: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    if saved.get("fingerprint") != fingerprint:
        raise ValueError(
            f"{path} was written by a run with other settings or data; "
            "use another --work folder or delete it"
        )
    return saved
