"""Write the eval gate's distractor articles (the first 16 XQuAD English articles in the gate's
stable order) from the public datasets to eval/distractors/xquad.jsonl.

    .venv/bin/python scripts/export_distractors.py [--datasets ../shared/datasets] [-n 16]

`make test-datasets` checks that the committed file equals what this writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.evaluation.corpora import write_distractors

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("-n", type=int, default=16)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "distractors" / "xquad.jsonl")
    args = parser.parse_args()
    write_distractors(args.datasets, args.n, args.out)
    print(f"wrote {args.n} articles to {args.out}")
