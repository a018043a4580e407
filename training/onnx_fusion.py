"""Fuse the exported encoder's attention into onnxruntime's MultiHeadAttention operator.

``torch.onnx.export`` of a BERT encoder with eager attention writes each layer's
self-attention as about a dozen small nodes: per head split (Reshape, Transpose) of Q, K
and V, MatMul, scale, additive mask, Softmax, MatMul, and the merge back (Transpose,
Reshape). onnxruntime's own optimiser does not fuse them (its transformer optimiser
expects other mask subgraphs), so on 2 cores the transposes and the unfused softmax cost
about a sixth of the encoder's time. One ``com.microsoft.MultiHeadAttention`` node per
layer does the same arithmetic with a key-padding mask taken from ``attention_mask``.

The rewrite matches the pattern by structure, not by node names, and leaves any layer
that does not match exactly as it was, so a graph it does not understand comes back
unchanged. It works on fp32 and on dynamically quantised (int8) graphs alike: the
projections before the pattern and the output dense after it are not touched.

    python -m training.onnx_fusion MODEL_DIR   # fuse a saved neural model in place
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MASK_INPUT = "attention_mask"
_MASK_CAST = "cuishou_key_padding_mask"


@dataclass(frozen=True)
class _Match:
    """One layer's attention: its Q, K, V inputs ([B, S, hidden]) and merged output."""

    query: str
    key: str
    value: str
    output: str
    heads: int
    scale: float
    nodes: tuple  # the nodes the fused node replaces


class _Graph:
    """Producer / consumer lookups and constant values over an ONNX graph."""

    def __init__(self, graph):
        from onnx import numpy_helper

        self.graph = graph
        self.producer = {o: n for n in graph.node for o in n.output}
        self.consumers: dict[str, list] = {}
        for n in graph.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        for n in graph.node:
            if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
                self.constants[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)

    def parent(self, node, index: int, op_type: str):
        if index >= len(node.input):
            return None
        p = self.producer.get(node.input[index])
        return p if p is not None and p.op_type == op_type else None

    def only_child(self, node, op_type: str):
        children = self.consumers.get(node.output[0], [])
        return children[0] if len(children) == 1 and children[0].op_type == op_type else None

    def perm(self, node) -> list[int] | None:
        for a in node.attribute:
            if a.name == "perm":
                return list(a.ints)
        return None

    def scalar(self, name: str) -> float | None:
        value = self.constants.get(name)
        return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None

    def reaches_mask_input(self, name: str, depth: int = 8) -> bool:
        """Whether ``name`` is computed from ``attention_mask`` alone (plus constants)."""
        if name == MASK_INPUT:
            return True
        if name in self.constants or depth == 0:
            return False
        node = self.producer.get(name)
        if node is None or node.op_type not in {"Unsqueeze", "Cast", "Sub", "Mul", "Reshape", "Expand"}:
            return False
        data = [i for i in node.input if i and i not in self.constants]
        return bool(data) and all(self.reaches_mask_input(i, depth - 1) for i in data)

    def heads_of(self, reshape) -> int | None:
        """Heads from a per-head Reshape to (batch, tokens, heads, head size).

        The exporter writes the heads as -1 when the head size is fixed; then the heads are
        the hidden size (the length of the projection's bias) over the head size.
        """
        shape = self.constants.get(reshape.input[1])
        if shape is not None:
            dims = [int(v) for v in shape.reshape(-1)]
        else:
            concat = self.producer.get(reshape.input[1])
            if concat is None or concat.op_type != "Concat" or len(concat.input) != 4:
                return None
            dims = [int(v) if (v := self.scalar(i)) is not None else 0 for i in concat.input]
        if len(dims) != 4:
            return None
        heads, head_size = dims[2], dims[3]
        if heads > 0:
            return heads
        hidden = self.bias_size(reshape.input[0])
        if head_size > 0 and hidden and hidden % head_size == 0:
            return hidden // head_size
        return None

    def bias_size(self, name: str) -> int | None:
        """The length of the 1-D constant added to make ``name`` (a projection's bias)."""
        node = self.producer.get(name)
        if node is None or node.op_type != "Add":
            return None
        for i in node.input:
            value = self.constants.get(i)
            if value is not None and value.ndim == 1:
                return int(value.shape[0])
        return None


def _split_heads(g: _Graph, node, index: int, perm: list[int]):
    """The [B, S, hidden] tensor behind ``Transpose(perm)(Reshape(x))`` feeding ``node``."""
    transpose = g.parent(node, index, "Transpose")
    if transpose is None or g.perm(transpose) != perm:
        return None
    reshape = g.parent(transpose, 0, "Reshape")
    if reshape is None:
        return None
    return reshape.input[0], (transpose, reshape), g.heads_of(reshape)


def _match(g: _Graph, softmax) -> _Match | None:
    """The attention pattern around one Softmax, or None if anything differs."""
    add = g.parent(softmax, 0, "Add")
    if add is None:
        return None
    for scores_index in (0, 1):
        scaled = g.producer.get(add.input[scores_index])
        mask = add.input[1 - scores_index]
        if scaled is not None and scaled.op_type in ("Mul", "Div") and g.reaches_mask_input(mask):
            break
    else:
        return None
    factor = g.scalar(scaled.input[1])
    if factor is None or factor == 0:
        return None
    scale = factor if scaled.op_type == "Mul" else 1.0 / factor
    scores = g.parent(scaled, 0, "MatMul")
    context = g.only_child(softmax, "MatMul")
    if scores is None or context is None or context.input[0] != softmax.output[0]:
        return None
    q = _split_heads(g, scores, 0, [0, 2, 1, 3])
    k = _split_heads(g, scores, 1, [0, 2, 3, 1])
    v = _split_heads(g, context, 1, [0, 2, 1, 3])
    merge = g.only_child(context, "Transpose")
    if q is None or k is None or v is None or merge is None or g.perm(merge) != [0, 2, 1, 3]:
        return None
    out = g.only_child(merge, "Reshape")
    heads = {q[2], k[2], v[2]}
    if out is None or len(heads) != 1 or None in heads:
        return None
    inner = (*q[1], *k[1], *v[1], scores, scaled, add, softmax, context, merge, out)
    # Every intermediate must feed only this pattern, or removing it would break the graph.
    names = {id(n) for n in inner}
    for n in inner[:-1]:
        if any(id(c) not in names for c in g.consumers.get(n.output[0], [])):
            return None
    return _Match(q[0], k[0], v[0], out.output[0], heads.pop(), scale, inner)


def fuse_attention(model) -> tuple[object, int]:
    """(model, layers fused): ``model`` (an ``onnx.ModelProto``) rewritten in place."""
    from onnx import TensorProto, helper

    graph = model.graph
    if MASK_INPUT not in {i.name for i in graph.input}:
        return model, 0
    g = _Graph(graph)
    matches = [m for s in graph.node if s.op_type == "Softmax" and (m := _match(g, s)) is not None]
    if not matches:
        return model, 0
    replaced = {id(n) for m in matches for n in m.nodes}
    fused_at = {id(m.nodes[-1]): m for m in matches}  # the fused node takes the output Reshape's place
    nodes = [helper.make_node("Cast", [MASK_INPUT], [_MASK_CAST], name=_MASK_CAST, to=TensorProto.INT32)]
    for n in graph.node:
        m = fused_at.get(id(n))
        if m is not None:
            nodes.append(helper.make_node(
                "MultiHeadAttention", [m.query, m.key, m.value, "", _MASK_CAST], [m.output],
                name=f"{m.output}/MultiHeadAttention", domain="com.microsoft", num_heads=m.heads, scale=m.scale))
        elif id(n) not in replaced:
            nodes.append(n)
    graph.ClearField("node")
    graph.node.extend(_live(nodes, {o.name for o in graph.output}))
    used = {i for n in graph.node for i in n.input}
    initializers = [i for i in graph.initializer if i.name in used]
    graph.ClearField("initializer")
    graph.initializer.extend(initializers)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model, len(matches)


def _live(nodes: list, outputs: set[str]) -> list:
    """``nodes`` without those whose outputs nothing uses (the mask's old broadcast shapes)."""
    while True:
        used = set(outputs)
        for n in nodes:
            used.update(i for i in n.input if i)
        kept = [n for n in nodes if any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            return kept
        nodes = kept


def fuse_attention_file(source: Path, target: Path) -> int:
    """Fuse ``source`` into ``target`` (may be the same path); returns the layers fused."""
    import onnx

    model, fused = fuse_attention(onnx.load(str(source)))
    onnx.save(model, str(target))
    log.info("fused attention in %d layers: %s", fused, target)
    return fused


def max_output_difference(before: Path, after: Path, batches: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Largest absolute difference between two graphs' outputs on (input_ids, attention_mask)."""
    from models.neural import OnnxEncoder

    a, b = OnnxEncoder(before, threads=1), OnnxEncoder(after, threads=1)
    worst = 0.0
    for ids, mask in batches:
        for x, y, name in zip(a(ids, mask), b(ids, mask), ("stage", "flags", "tags"), strict=True):
            diff = np.abs(x - y)[mask.astype(bool)] if name == "tags" else np.abs(x - y)
            worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


def fuse_model_dir(model_dir: Path, texts: list[str]) -> dict:
    """Fuse a saved neural model's encoder in place, after checking the outputs on ``texts``.

    The manifest's config records ``attention_fused`` (layers) and the model card says
    when and how the encoder was rewritten, so the model says what it is.
    """
    import shutil
    import tempfile

    from models.artifact import CARD, MANIFEST, load_artifact
    from models.neural import ENCODER_FILE, NeuralClassifier, pad_batch

    artifact = load_artifact(model_dir)
    classifier = NeuralClassifier.from_artifact(artifact, threads=1)
    windows = classifier.windower.windows(texts)
    size = max(1, math.ceil(len(windows) / 4))
    batches = [pad_batch([w.ids for w in windows[i : i + size]], classifier.settings.pad_id)
               for i in range(0, len(windows), size)]
    encoder = Path(model_dir) / ENCODER_FILE
    with tempfile.TemporaryDirectory() as tmp:
        fused_path = Path(tmp) / ENCODER_FILE
        fused = fuse_attention_file(encoder, fused_path)
        difference = max_output_difference(encoder, fused_path, batches) if fused else 0.0
        if fused:
            shutil.copyfile(fused_path, encoder)
    manifest_path = Path(model_dir) / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest.setdefault("config", {})["attention_fused"] = fused or manifest["config"].get("attention_fused", 0)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    report = {"layers_fused": fused, "max_abs_difference": round(difference, 6), "windows": len(windows)}
    card = Path(model_dir) / CARD
    if fused and card.is_file():
        with card.open("a", encoding="utf-8") as f:
            f.write(f"\n## Attention fused after training\n\n- `python -m training.onnx_fusion` rewrote the "
                    f"encoder's attention in {fused} layers into MultiHeadAttention nodes; on {len(windows)} "
                    f"windows the outputs differ from the saved graph's by at most {report['max_abs_difference']}. "
                    "Speeds above were measured before the rewrite; `evaluation/bench_models.py` measures the "
                    "current ones.\n")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="A saved neural model directory.")
    parser.add_argument("--split", default="dev", help="Corpus split whose texts check the outputs.")
    parser.add_argument("--limit", type=int, default=64)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    from corpora.loader import load_split
    from models.analyzer import model_texts

    items = load_split(args.split)[: args.limit]
    texts = [model_texts({"text": i["text"]} if "text" in i else {"turns": i["turns"]})[0] for i in items] or ["您好，您的账单已逾期，请尽快还款。"]
    report = fuse_model_dir(args.model_dir, texts)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
