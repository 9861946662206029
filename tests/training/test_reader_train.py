"""The training loop: seeded, and a resumed run ends exactly where an uninterrupted one does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from qa.evaluation.corpora import TRAIN_FOLD
from qa.training.reader_data import ReaderData, SourcePool, build_records, mine_negatives
from qa.training.reader_lists import Mix
from qa.training.reader_train import CHECKPOINT, FINAL, TrainConfig, train
from tests.training.test_reader_data import fake_embed
from tests.training.tiny import tiny_encoder, tiny_net

CONFIG = TrainConfig(
    layers=1, max_len=48, steps=6, lists_per_step=2, threads=1, mix=Mix(max_candidates=3)
)


@pytest.fixture
def data(sources: list[SourcePool]) -> ReaderData:
    data = build_records(sources, {"squad": frozenset({TRAIN_FOLD}), "amazon": None})
    mine_negatives(data, fake_embed, k=3)
    return data


def weights(result_net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in result_net.state_dict().items()}


def run(data: ReaderData, work: Path, **kwargs: object) -> torch.nn.Module:
    return train(
        data, tiny_net, tiny_encoder(), CONFIG, work, progress=False, log=lambda _: None, **kwargs
    ).net  # type: ignore[arg-type]


def test_training_moves_the_weights_and_is_reproducible(data: ReaderData, tmp_path: Path) -> None:
    torch.manual_seed(123)
    untrained = weights(tiny_net())
    one = weights(run(data, tmp_path / "a"))
    two = weights(run(data, tmp_path / "b"))
    assert all(torch.equal(one[k], two[k]) for k in one)
    assert not torch.equal(one["none"], torch.zeros(1))
    assert any(not torch.equal(one[k], untrained[k]) for k in one if k.startswith("encoder."))


def test_a_resumed_run_equals_an_uninterrupted_one(data: ReaderData, tmp_path: Path) -> None:
    whole = weights(run(data, tmp_path / "whole"))
    work = tmp_path / "parts"
    first = train(
        data, tiny_net, tiny_encoder(), CONFIG, work, stop_after=2, progress=False, log=print
    )
    assert not first.finished and first.steps == 2
    assert (work / CHECKPOINT).is_file() and not (work / FINAL).is_file()
    second = train(
        data, tiny_net, tiny_encoder(), CONFIG, work, stop_after=3, progress=False, log=print
    )
    assert second.steps == 5
    resumed = weights(run(data, work))
    assert (work / FINAL).is_file()
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    # A finished run is reloaded, not trained again.
    assert all(torch.equal(whole[k], v) for k, v in weights(run(data, work)).items())


def test_a_checkpoint_of_other_settings_is_refused(data: ReaderData, tmp_path: Path) -> None:
    train(data, tiny_net, tiny_encoder(), CONFIG, tmp_path, stop_after=1, progress=False)
    other = replace(CONFIG, seed=1)
    with pytest.raises(ValueError, match="other settings or data"):
        train(data, tiny_net, tiny_encoder(), other, tmp_path, progress=False)
