"""The same corpus and question give the same answer, citations and confidence in any process.

Python salts `str` hashes per process (`PYTHONHASHSEED`), so anything that iterates a set of
words while summing floats can round differently from one process to the next and flip a close
ranking. Two processes with different hash seeds each build an index of the same corpus (the seed
article and the gate's 16 distractor articles) and answer every gold question; every field of
every answer but the time it took must be equal, floats to the last bit (the HTTP response rounds
`confidence`, which would hide a difference until it flips a ranking or an abstention).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.evaluation.corpora import read_distractors
from tests.conftest import SEEDS

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import dataclasses, json, sys
from pathlib import Path
from qa.core.settings import Settings
from qa.engine.engine import Engine

seeds, index, questions = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
engine, _ = Engine.open(Settings(seeds_dir=seeds, index_dir=index))
for question in json.loads(questions.read_text()):
    answer = dataclasses.asdict(engine.ask(question, top_k=3))
    answer.pop("took_ms")
    print(json.dumps(answer, sort_keys=True))  # floats as repr: exact
"""


def _answers(seeds: Path, work: Path, questions: Path, hash_seed: str) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seeds), str(work / "index"), str(questions)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_answers_are_identical_across_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, seeds / path.name)
    distractors = read_distractors(ROOT / "eval" / "distractors" / "xquad.jsonl", 16)
    for doc_id, text in distractors.items():
        (seeds / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    gold = ROOT / "eval" / "gold.jsonl"
    questions = [json.loads(line)["question"] for line in gold.read_text().splitlines() if line]
    # Questions of the distractors' kind too, so ties between long Wikipedia sentences count.
    questions += ["When was Harvard founded?", "Who was the first president of the university?"]
    path = tmp_path / "questions.json"
    path.write_text(json.dumps(questions))
    first = _answers(seeds, tmp_path / "a", path, "1")
    second = _answers(seeds, tmp_path / "b", path, "2")
    assert len(first) == len(second) == len(questions)
    differ = [q for q, a, b in zip(questions, first, second, strict=True) if a != b]
    assert not differ, f"{len(differ)} answers differ between hash seeds, e.g. {differ[:3]}"
