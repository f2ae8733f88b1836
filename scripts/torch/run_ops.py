"""Runs small torch programs and reports the shapes they bind.

Usage: python3 run_ops.py PROGRAMS.json RESULTS.json

PROGRAMS.json is a list of {"id", "source"} written by test/unit/analysis-ops.test.ts: each
source binds `y` (one result) or `y0`, `y1`, ... (a tuple result unpacked). RESULTS.json gets
{"torch": version, "results": [{"id", "ok", "shapes": [[size, ...], ...]} or {"id", "ok":
false, "error": exception class name, "message"}]}; a bound value that is no tensor has shape
null. Nothing here knows any op: the test compares the shapes with the analyzer's.
"""

import json
import sys
import warnings

import torch


def shape_of(v):
    return list(v.shape) if isinstance(v, torch.Tensor) else None


def run(program):
    ns = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.manual_seed(0)
            exec(compile(program["source"], program["id"], "exec"), ns)
    except Exception as e:  # noqa: BLE001 - every exception is a result here
        return {"id": program["id"], "ok": False, "error": type(e).__name__, "message": str(e)[:300]}
    if "y" in ns:
        shapes = [shape_of(ns["y"])]
    else:
        shapes = []
        k = 0
        while f"y{k}" in ns:
            shapes.append(shape_of(ns[f"y{k}"]))
            k += 1
    return {"id": program["id"], "ok": True, "shapes": shapes}


def main():
    programs = json.load(open(sys.argv[1]))
    results = [run(p) for p in programs]
    with open(sys.argv[2], "w") as f:
        json.dump({"torch": torch.__version__, "results": results}, f)


if __name__ == "__main__":
    main()
