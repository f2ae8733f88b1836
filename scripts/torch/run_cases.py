"""Runs generated PyTorch modules in real torch and reports what happened.

Usage: python3 run_cases.py CASES.json RESULTS.json

CASES.json is a list of cases written by the test suite:
  {"id", "code", "className", "inputs": [{"name", "shape", "dtype", "fill"}],
   "twin": {"code", "className"}?, "constructOnly": bool?}
A constructOnly case only builds the module (for parameters whose inputs
cannot be described, such as invalid ones).
A case with a twin also builds the twin, loads the case's state_dict into it
(strictly: the two must have the same parameter names and shapes), runs it on
the same inputs and reports the largest absolute difference of the first
output ("twinMaxAbsDiff").
Each case's code is written to its own module file and imported; the class is
built with its default arguments (the values chosen at generation time), put
in eval mode, and called under no_grad with synthesised inputs. RESULTS.json
gets one entry per case: {"id", "ok", "outputs": [shape...], "finite", "error",
"warnings": [message...]} (the warnings raised while building and running it).
Nothing here knows any block: the suite compares the shapes with the catalog.
"""

import importlib.util
import json
import os
import sys
import tempfile
import traceback
import warnings

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


def build(code, class_name, folder, name):
    path = os.path.join(folder, name + ".py")
    with open(path, "w") as f:
        f.write(code)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    model = getattr(mod, class_name)()
    model.eval()
    return model


def run_case(case, folder, index):
    model = build(case["code"], case["className"], folder, "case_%d" % index)
    if case.get("constructOnly"):
        return {"outputs": [], "finite": True}
    gen = torch.Generator().manual_seed(1)
    args = [make_input(s, gen) for s in case["inputs"]]
    with torch.no_grad():
        out = model(*args)
    outs = list(out) if isinstance(out, tuple) else [out]
    shapes = [list(o.shape) if isinstance(o, torch.Tensor) else None for o in outs]
    finite = all(bool(torch.isfinite(o).all()) for o in outs if isinstance(o, torch.Tensor))
    result = {"outputs": shapes, "finite": finite}
    twin = case.get("twin")
    if twin:
        other = build(twin["code"], twin["className"], folder, "twin_%d" % index)
        other.load_state_dict(model.state_dict(), strict=True)
        with torch.no_grad():
            out2 = other(*args)
        first2 = out2[0] if isinstance(out2, tuple) else out2
        result["twinMaxAbsDiff"] = float((outs[0] - first2).abs().max())
    return result


def main():
    cases_path, results_path = sys.argv[1], sys.argv[2]
    with open(cases_path) as f:
        cases = json.load(f)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for i, case in enumerate(cases):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    r = run_case(case, folder, i)
                    r.update({"id": case["id"], "ok": True})
                except Exception as e:  # the case's failure is data for the suite
                    r = {"id": case["id"], "ok": False, "error": "%s: %s" % (type(e).__name__, e),
                         "trace": traceback.format_exc(limit=3)}
            r["warnings"] = ["%s: %s" % (w.category.__name__, w.message) for w in caught]
            results.append(r)
    with open(results_path, "w") as f:
        json.dump({"torch": torch.__version__, "results": results}, f)


if __name__ == "__main__":
    main()
