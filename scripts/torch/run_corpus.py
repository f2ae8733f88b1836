"""Runs the analyzer's labelled corpus programs in real torch, all in one process.

Usage: python3 run_corpus.py REQUEST.json RESULTS.json

REQUEST.json: {"files": [path...], "twins": [[buggy, fixed]...]}
Each file runs as __main__ (runpy) after torch.manual_seed(0), under no_grad, with warnings
silenced. RESULTS.json: {"torch": version, "results": [{"file", "ok", "errorType", "error"}],
"twins": [{"buggy", "fixed", "maxAbsDiff"}]} where maxAbsDiff compares the global `result`
tensors the two programs leave (null when either has none). Knows nothing about rules.
"""

import json
import runpy
import sys
import warnings

import torch


def main():
    req = json.load(open(sys.argv[1]))
    results = []
    outputs = {}
    warnings.simplefilter("ignore")
    for path in req["files"]:
        torch.manual_seed(0)
        entry = {"file": path, "ok": True}
        try:
            with torch.no_grad():
                g = runpy.run_path(path, run_name="__main__")
            r = g.get("result")
            if isinstance(r, torch.Tensor):
                outputs[path] = r.detach().clone()
        except BaseException as e:  # noqa: BLE001 - user programs may raise anything
            entry = {"file": path, "ok": False, "errorType": type(e).__name__, "error": str(e)[:300]}
        results.append(entry)
    twins = []
    for buggy, fixed in req.get("twins", []):
        a, b = outputs.get(buggy), outputs.get(fixed)
        diff = None
        if a is not None and b is not None:
            if a.shape != b.shape:
                # Different shapes differ everywhere; a finite sentinel keeps the results valid JSON.
                diff = 1e30
            else:
                diff = float((a.float() - b.float()).abs().nan_to_num(nan=1e9).max())
        twins.append({"buggy": buggy, "fixed": fixed, "maxAbsDiff": diff})
    json.dump({"torch": torch.__version__, "results": results, "twins": twins}, open(sys.argv[2], "w"))


main()
