"""Writes PyTorch checkpoints with real torch for the checkpoint reader's tests.

Usage: python3 checkpoints.py CASES.json OUTDIR

OUTDIR receives, each written by torch.save:
  dtypes.pt     an OrderedDict of float32/float16/bfloat16/float64/int64/int32/
                int16/int8/uint8/bool tensors, a 0-d tensor, an empty one and
                an nn.Parameter;
  views.pt      views sharing one storage: slices of a fused qkv, a transpose,
                a strided column, an expanded (stride 0) row;
  tied.pt       the state_dict of a module whose head reuses its embedding;
  nested.pt     {"state_dict": ..., "epoch": 3, "optimizer": Adam's state_dict, ...};
  several.pt    {"model": ..., "ema": ...}; ambiguous.pt {"a": ..., "b": ...};
  legacy.pt     dtypes and views with _use_new_zipfile_serialization=False;
  legacy-nested.pt  the nested checkpoint in the legacy format;
  proto4.pt     views with pickle_protocol=4;
  whole.pt      a whole module (torch.save(model)), which must be refused;
  linear-bad.pt a state_dict for nn.Linear(3, 4) with a missing, an extra and
                a mis-shaped key;
  <id>.pt       for each case of CASES.json ({"id", "code", "className",
                "inputs"}, as goldens.py blocks), the module's state_dict after
                the same perturbation as goldens.py, and <id>.io.safetensors
                with its inputs ("input.<name>") and outputs ("output.<i>").
expected.json holds, per file, every tensor's dtype, shape and values (as
float, row-major) and the messages torch's load_state_dict gives for
linear-bad.pt (strict) and its missing and unexpected keys (strict=False).
"""

import collections
import importlib.util
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldens  # noqa: E402


class Tied(torch.nn.Module):
    """A head that reuses the embedding's weight, as language models tie them."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(6, 4)
        self.head = torch.nn.Linear(4, 6, bias=False)
        self.head.weight = self.embed.weight


def describe(sd):
    return {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": v.detach().double().flatten().tolist()} for k, v in sd.items()}


def main():
    cases_path, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    expected = {"torch": torch.__version__}

    def save(name, obj, sd, **kw):
        torch.save(obj, os.path.join(out, name), **kw)
        expected[name] = describe(sd)

    dtypes = collections.OrderedDict()
    dtypes["f32"] = torch.randn(3, 5, generator=g)
    dtypes["f16"] = torch.randn(4, 2, generator=g).half()
    dtypes["bf16"] = torch.randn(7, generator=g).bfloat16()
    dtypes["f64"] = torch.randn(2, 3, generator=g).double()
    dtypes["i64"] = torch.tensor([0, -3, 2**24, -(2**20), 7])
    dtypes["i32"] = torch.tensor([[1, -2], [3, 40000]], dtype=torch.int32)
    dtypes["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    dtypes["i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    dtypes["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    dtypes["bool"] = torch.tensor([True, False, True])
    dtypes["scalar"] = torch.tensor(2.5)
    dtypes["empty"] = torch.zeros(0, 4)
    dtypes["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    save("dtypes.pt", dtypes, dtypes)

    qkv = torch.randn(12, 4, generator=g)
    row = torch.randn(1, 3, generator=g)
    views = collections.OrderedDict()
    views["qkv"] = qkv
    q, k, v = qkv.chunk(3)
    views["q"], views["k"], views["v"] = q, k, v
    views["t"] = qkv.t()
    views["col"] = qkv[:, 1]
    views["every_other"] = qkv[1::2, ::3]
    views["expanded"] = row.expand(4, 3)
    save("views.pt", views, views)

    torch.manual_seed(0)
    tied = Tied()
    save("tied.pt", tied.state_dict(), tied.state_dict())

    torch.manual_seed(1)
    lin = torch.nn.Linear(3, 4)
    opt = torch.optim.Adam(lin.parameters(), lr=0.1)
    lin(torch.ones(2, 3)).sum().backward()
    opt.step()
    nested = {"state_dict": lin.state_dict(), "epoch": 3, "optimizer": opt.state_dict(), "lr": 0.1, "args": {"name": "run", "betas": (0.9, 0.999), "flags": [True, None]}}
    save("nested.pt", nested, lin.state_dict())
    save("legacy-nested.pt", nested, lin.state_dict(), _use_new_zipfile_serialization=False)

    ema = {k: v * 0.5 for k, v in lin.state_dict().items()}
    save("several.pt", {"ema": ema, "model": lin.state_dict(), "step": 10}, lin.state_dict())
    save("ambiguous.pt", {"a": lin.state_dict(), "b": ema}, ema)

    legacy = collections.OrderedDict(list(dtypes.items()) + [("view." + k, t) for k, t in views.items()])
    save("legacy.pt", legacy, legacy, _use_new_zipfile_serialization=False)
    save("proto4.pt", views, views, pickle_protocol=4)
    torch.save(tied, os.path.join(out, "whole.pt"))

    bad = collections.OrderedDict([("weight", torch.zeros(5, 3)), ("extra", torch.zeros(1))])
    save("linear-bad.pt", bad, bad)
    target = torch.nn.Linear(3, 4)
    try:
        target.load_state_dict(bad)
        expected["strictError"] = None
    except RuntimeError as e:
        expected["strictError"] = str(e)
    ok = collections.OrderedDict([("weight", torch.zeros(4, 3)), ("extra", torch.zeros(1))])
    save("linear-partial.pt", ok, ok)
    r = target.load_state_dict(ok, strict=False)
    expected["nonStrict"] = {"missing": list(r.missing_keys), "unexpected": list(r.unexpected_keys)}

    with open(cases_path) as f:
        cases = json.load(f)
    for i, case in enumerate(cases):
        path = os.path.join(out, "block_%d.py" % i)
        with open(path, "w") as f:
            f.write(case["code"])
        spec = importlib.util.spec_from_file_location("block_%d" % i, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        torch.manual_seed(0)
        model = getattr(mod, case["className"])()
        model.eval()
        gen = torch.Generator().manual_seed(1)
        inputs = [goldens.make_input(s, gen) for s in case["inputs"]]
        with torch.no_grad():
            goldens.perturb(model, gen)
            result = model(*inputs)
        outs = list(result) if isinstance(result, tuple) else [result]
        torch.save({"model": model.state_dict(), "epoch": 1}, os.path.join(out, case["id"] + ".pt"))
        tensors = {"input." + s["name"]: t for s, t in zip(case["inputs"], inputs)}
        for j, o in enumerate(outs):
            tensors["output.%d" % j] = o
        goldens.write_safetensors(os.path.join(out, case["id"] + ".io.safetensors"), tensors)

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
