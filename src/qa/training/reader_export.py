"""Write the trained reader as one int8 ONNX file and the small JSON that describes it.

The network is traced with the TorchScript exporter (it needs only the `onnx` package), then
dynamically quantised: int8 weights per output channel, activations quantised per call. The
JSON records the file's sha256, which `qa.answer.reader.Reader` checks before loading, the
tokenizer's sha256 and the token layout, and what the weights were trained on.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from qa.embed.model import sha256_file
from qa.training.reader_model import ReaderNet

OPSET = 17
MAX_BYTES = 32 * 1024 * 1024
LICENSE = (
    "Weights fine-tuned from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) on SQuAD 2.0 "
    "(CC BY-SA 4.0) and SQuADShifts Amazon and Reddit (CC BY 4.0) questions."
)


class _Exported(torch.nn.Module):
    def __init__(self, net: ReaderNet) -> None:
        super().__init__()
        self.net = net

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        relevance, start, end, none = self.net(input_ids, attention_mask, token_type_ids)
        return relevance, start, end, none + 0 * relevance[:1]  # an output of the graph's dtype


def export_reader(
    net: ReaderNet, onnx_path: Path, json_path: Path, meta: dict[str, Any]
) -> dict[str, Any]:
    """Export `net` (on the CPU, in eval mode) to `onnx_path` as int8 and write `json_path`
    (`meta` plus the file's hash and size); return the JSON written."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    net = net.to("cpu").eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    outputs = ["relevance", "start_logits", "end_logits", "none"]
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "tokens"} for n in names}
    axes.update({"relevance": {0: "batch"}, "start_logits": {0: "batch", 1: "tokens"}})
    axes["end_logits"] = {0: "batch", 1: "tokens"}
    example = torch.ones(2, 16, dtype=torch.long)
    with tempfile.TemporaryDirectory(prefix="reader-export-") as tmp:
        fp32 = Path(tmp) / "reader-fp32.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Exported(net),
                (example, torch.ones_like(example), torch.zeros_like(example)),
                str(fp32),
                input_names=names,
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            onnx_path.parent.mkdir(parents=True, exist_ok=True)
            quantize_dynamic(
                fp32,
                onnx_path,
                weight_type=QuantType.QInt8,
                per_channel=True,
                extra_options={"DefaultTensorType": 1},  # untyped traced tensors are float
            )
        finally:
            root.setLevel(level)
    size = onnx_path.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"{onnx_path} is {size} bytes, over the {MAX_BYTES} allowed")
    info = {
        "file": onnx_path.name,
        "sha256": sha256_file(onnx_path),
        "bytes": size,
        "opset": OPSET,
        "quantization": "dynamic int8 (QInt8 weights per channel; activations per call)",
        **meta,
        "license": LICENSE,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    json_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info
