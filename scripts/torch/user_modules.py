"""Runs user-style modules (Python files of test/fixtures/user-modules/) in real torch for the
interpreter's differential test.

Usage: python3 user_modules.py CASES.json OUTDIR

CASES.json is a list of {"id", "file", "className", "init": {name: value}, "inputs": [shape or
goldens.py input spec ({"shape", "dtype", "fill"}), ...], "seed"}, optionally with "module" (an
installed module imported by name instead of the file) and "maps" (every nn.MultiheadAttention's
per-head weights are written too, as attn.<module path>). For each case the file is imported, the class built with `init` under
torch.manual_seed(seed), its parameters perturbed as goldens.py perturbs blocks (so zero-initialised
gates and batch-norm statistics are exercised), switched to eval() and run on inputs made as goldens.py makes them (randn unless the spec says otherwise).
OUTDIR receives <id>.pt (torch.save of the state_dict) and <id>.io.safetensors with the inputs
("input0", ...) and the outputs ("output0", ... in the order forward returns them), and
results.json with the torch version and each case's output shapes.
"""

import importlib.util
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldens  # noqa: E402


def load_class(case):
    if case.get("module"):
        # An installed module, imported by name so its relative imports resolve.
        return getattr(importlib.import_module(case["module"]), case["className"])
    path = case["file"]
    spec = importlib.util.spec_from_file_location("user_module_" + os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, case["className"])


def record_attention(model, maps):
    """Every nn.MultiheadAttention also computes its per-head weights, kept as attn.<path>."""
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.MultiheadAttention):
            def forward(*args, _orig=m.forward, _name=name, **kwargs):
                weighted = dict(kwargs, need_weights=True, average_attn_weights=False)
                maps["attn." + _name] = _orig(*args, **weighted)[1]
                return _orig(*args, **kwargs)
            m.forward = forward


def main():
    cases_path, outdir = sys.argv[1], sys.argv[2]
    with open(cases_path) as f:
        cases = json.load(f)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    os.makedirs(outdir, exist_ok=True)
    results = []
    for case in cases:
        torch.manual_seed(case.get("seed", 0))
        gen = torch.Generator().manual_seed(case.get("seed", 0))
        model = load_class(case)(**case.get("init", {}))
        with torch.no_grad():
            goldens.perturb(model, gen)
        model.eval()
        inputs = [goldens.make_input(s if isinstance(s, dict) else {"shape": s}, gen) for s in case["inputs"]]
        maps = {}
        if case.get("maps"):
            record_attention(model, maps)
        with torch.no_grad():
            out = model(*inputs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        torch.save(model.state_dict(), os.path.join(outdir, case["id"] + ".pt"))
        tensors = {"input%d" % i: t for i, t in enumerate(inputs)}
        tensors.update({"output%d" % i: t for i, t in enumerate(outs)})
        tensors.update(maps)
        goldens.write_safetensors(os.path.join(outdir, case["id"] + ".io.safetensors"), tensors)
        results.append({"id": case["id"], "outputs": [list(t.shape) for t in outs]})
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"torch": torch.__version__, "results": results}, f)


if __name__ == "__main__":
    main()
