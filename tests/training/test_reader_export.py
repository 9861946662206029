"""Export to int8 ONNX: one file, its hash recorded, read by `Reader` like the torch model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from qa.answer.reader import Reader
from qa.embed.model import bundled_model_path, sha256_file
from qa.training.reader_export import export_reader
from qa.training.reader_model import TorchReader
from tests.training.tiny import tiny_encoder, tiny_net

QUESTION = "Who keeps the harbour?"
CANDIDATES = [
    ("The harbour was rebuilt in spring.", "Its new keeper is called Anna Berg."),
    ("", "Visitors came from every village nearby."),
]


@pytest.fixture(scope="module", params=["cls", "mean"])
def exported(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, TorchReader]:
    torch.manual_seed(0)
    net = tiny_net(request.param).eval()
    encoder = tiny_encoder()
    folder = tmp_path_factory.mktemp("reader")
    meta = {
        "max_len": encoder.max_len,
        "max_question": encoder.max_question,
        "max_previous": encoder.max_previous,
        "none_logit": 0.0,
        "tokenizer": {"sha256": sha256_file(bundled_model_path() / "tokenizer.json")},
    }
    export_reader(net, folder / "reader.onnx", folder / "reader.json", meta)
    return folder / "reader.onnx", TorchReader(net, encoder)


def test_the_json_records_the_files_hash_and_layout(exported: tuple[Path, TorchReader]) -> None:
    path, _ = exported
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["sha256"] == sha256_file(path)
    assert meta["bytes"] == path.stat().st_size
    assert "CC BY-SA 4.0" in meta["license"] and "Apache-2.0" in meta["license"]


def test_onnx_scores_follow_the_torch_model(exported: tuple[Path, TorchReader]) -> None:
    path, torch_reader = exported
    onnx = Reader(path).read(QUESTION, CANDIDATES)
    reference = torch_reader.read(QUESTION, CANDIDATES)
    assert len(onnx.candidates) == 2
    assert onnx.none == pytest.approx(reference.none, abs=1e-6)
    for got, want in zip(onnx.candidates, reference.candidates, strict=True):
        assert got.relevance == pytest.approx(want.relevance, abs=0.05)
        assert 0 <= got.start < got.end


def test_a_pair_scores_the_same_alone_in_a_list_and_in_another_process(
    exported: tuple[Path, TorchReader],
) -> None:
    path, _ = exported
    reader = Reader(path)
    together = reader.read(QUESTION, CANDIDATES).candidates
    alone = [reader.read(QUESTION, [c]).candidates[0] for c in CANDIDATES]
    assert together == tuple(alone)
    code = (
        "import sys; from pathlib import Path; from qa.answer.reader import Reader; "
        f"r = Reader(Path(sys.argv[1])).read({QUESTION!r}, {CANDIDATES!r}); "
        "print(repr([c.relevance for c in r.candidates]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == repr([c.relevance for c in together])
