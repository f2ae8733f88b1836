"""Runs generated PyTorch modules in real torch and reports what happened.

Usage: python3 run_cases.py CASES.json RESULTS.json

CASES.json is a list of cases written by the test suite:
  {"id", "code", "className", "inputs": [{"name", "shape", "dtype", "fill"}]}
Each case's code is written to its own module file and imported; the class is
built with its default arguments (the values chosen at generation time), put
in eval mode, and called under no_grad with synthesised inputs. RESULTS.json
gets one entry per case: {"id", "ok", "outputs": [shape...], "finite", "error"}.
Nothing here knows any block: the suite compares the shapes with the catalog.
"""

import importlib.util
import json
import os
import sys
import tempfile
import traceback

import torch


def make_input(spec, gen):
    shape = spec["shape"]
    fill = spec.get("fill", "randn")
    if fill == "randn":
        return torch.randn(*shape, generator=gen)
    if fill == "padding":
        n, s = shape
        m = torch.zeros(n, s, dtype=torch.bool)
        pad = min(max(1, s // 4), s - 1)
        for b in range(1, n, 2):
            if pad > 0:
                m[b, s - pad:] = True
        return m
    l, s = shape[-2], shape[-1]
    upper = torch.ones(l, s, dtype=torch.bool).triu(1)
    if fill == "causal-ignore":
        base = upper
    elif fill == "causal-keep":
        base = ~upper
    elif fill == "causal-additive":
        base = torch.zeros(l, s).masked_fill(upper, float("-inf"))
    else:
        raise ValueError("unknown fill " + fill)
    return base.expand(*shape).clone()


def run_case(case, folder, index):
    path = os.path.join(folder, "case_%d.py" % index)
    with open(path, "w") as f:
        f.write(case["code"])
    spec = importlib.util.spec_from_file_location("case_%d" % index, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    model = getattr(mod, case["className"])()
    model.eval()
    gen = torch.Generator().manual_seed(1)
    args = [make_input(s, gen) for s in case["inputs"]]
    with torch.no_grad():
        out = model(*args)
    outs = list(out) if isinstance(out, tuple) else [out]
    shapes = [list(o.shape) if isinstance(o, torch.Tensor) else None for o in outs]
    finite = all(bool(torch.isfinite(o).all()) for o in outs if isinstance(o, torch.Tensor))
    return {"outputs": shapes, "finite": finite}


def main():
    cases_path, results_path = sys.argv[1], sys.argv[2]
    with open(cases_path) as f:
        cases = json.load(f)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for i, case in enumerate(cases):
            try:
                r = run_case(case, folder, i)
                r.update({"id": case["id"], "ok": True})
            except Exception as e:  # the case's failure is data for the suite
                r = {"id": case["id"], "ok": False, "error": "%s: %s" % (type(e).__name__, e),
                     "trace": traceback.format_exc(limit=3)}
            results.append(r)
    with open(results_path, "w") as f:
        json.dump({"torch": torch.__version__, "results": results}, f)


if __name__ == "__main__":
    main()
