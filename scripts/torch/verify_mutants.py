"""Runs every mutant of test/fixtures/mutants/ in real torch and says what it does.

Usage: python3 verify_mutants.py MUTANTS_DIR > run.json
       python3 verify_mutants.py --merge OUT.json 1.13=RUN_113.json 2.6=RUN_26.json

The committed test/fixtures/mutants/verdicts.json is the merge of one run per torch version:
    /usr/bin/python3 scripts/torch/verify_mutants.py test/fixtures/mutants > /tmp/v113.json
    bash scripts/torch/in-trixie.sh python3 scripts/torch/verify_mutants.py test/fixtures/mutants > /tmp/v26.json
    python3 scripts/torch/verify_mutants.py --merge test/fixtures/mutants/verdicts.json 1.13=/tmp/v113.json 2.6=/tmp/v26.json

For each base module (MUTANTS_DIR/bases/<name>.py) the program run is the module's text with
its harness (MUTANTS_DIR/harness/<name>.py) appended: the harness seeds torch, builds the
module and binds its output to `out`. The base runs first; then each mutant of
MUTANTS_DIR/mutants.json (the base's text with `find`, which must occur exactly once,
replaced by `replace`) runs the same way in a fresh namespace. A mutant's verdict:
"raises" (with the exception), "differs" (it ran and some output tensor differs from the
base's: shape, or values beyond 1e-5 + 1e-4 * |base|, NaN counting as a value) or "same".
Bases marked `"torch": ">=2"` or importing a missing package are skipped here, and so are
their mutants. Output: {"torch": version, "bases": {name: "ok" | error | "skipped: why"},
"results": {id: {"verdict": ..., "error"?: ..., "maxAbsDiff"?: ...}}, "skipped": [ids]}.
"""

import json
import math
import os
import sys
import warnings

import torch

sys.dont_write_bytecode = True
warnings.filterwarnings("ignore")


def program(mutants_dir, base, text):
    with open(os.path.join(mutants_dir, "harness", base)) as f:
        return text.rstrip("\n") + "\n\n\n" + f.read()


def run(source, name):
    ns = {"__name__": "mutant_" + name.replace(".", "_")}
    code = compile(source, name, "exec")
    exec(code, ns)
    if "out" not in ns:
        raise KeyError("the harness bound no `out`")
    return ns["out"]


def tensors(value):
    if isinstance(value, torch.Tensor):
        return [value.detach()]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors(v)]
    if isinstance(value, dict):
        return [t for k in sorted(value) for t in tensors(value[k])]
    return []


def compare(base, mutant):
    """None when equal, else the largest absolute difference (inf for a shape change)."""
    a, b = tensors(base), tensors(mutant)
    if len(a) != len(b):
        return math.inf
    worst = 0.0
    differs = False
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return math.inf
        x, y = x.double(), y.double()
        if not torch.allclose(x, y, rtol=1e-4, atol=1e-5, equal_nan=True):
            differs = True
            both = ~(torch.isnan(x) | torch.isnan(y))
            d = (x - y).abs()[both]
            nan_mismatch = bool((torch.isnan(x) != torch.isnan(y)).any())
            worst = max(worst, math.inf if nan_mismatch and d.numel() == 0 else float(d.max()) if d.numel() else 0.0)
            if nan_mismatch:
                worst = max(worst, 1e30)
    return worst if differs else None


def applicable(spec):
    need = spec.get("torch", "")
    if need == ">=2" and int(torch.__version__.split(".")[0]) < 2:
        return "torch>=2 required"
    for pkg in spec.get("packages", []):
        try:
            __import__(pkg)
        except ImportError:
            return f"{pkg} not installed"
    return None


def merge(out_path, runs):
    merged = {}
    for arg in runs:
        version, path = arg.split("=", 1)
        with open(path) as f:
            merged[version] = json.load(f)
    with open(out_path, "w") as f:
        json.dump(merged, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    if sys.argv[1] == "--merge":
        merge(sys.argv[2], sys.argv[3:])
        return
    mutants_dir = sys.argv[1]
    with open(os.path.join(mutants_dir, "mutants.json")) as f:
        data = json.load(f)
    texts = {}
    base_out = {}
    bases = {}
    for base, spec in sorted(data["bases"].items()):
        why = applicable(spec)
        if why:
            bases[base] = "skipped: " + why
            continue
        with open(os.path.join(mutants_dir, "bases", base)) as f:
            texts[base] = f.read()
        try:
            base_out[base] = run(program(mutants_dir, base, texts[base]), base)
            bases[base] = "ok"
        except Exception as e:
            bases[base] = f"{type(e).__name__}: {e}"
    results = {}
    skipped = []
    for m in data["mutants"]:
        base = m["base"]
        if base not in base_out:
            skipped.append(m["id"])
            continue
        n = texts[base].count(m["find"])
        if n != 1:
            results[m["id"]] = {"verdict": "bad-find", "error": f"`find` occurs {n} times in {base}"}
            continue
        text = texts[base].replace(m["find"], m["replace"])
        try:
            out = run(program(mutants_dir, base, text), m["id"])
        except Exception as e:
            results[m["id"]] = {"verdict": "raises", "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"}
            continue
        d = compare(base_out[base], out)
        if d is None:
            results[m["id"]] = {"verdict": "same"}
        else:
            results[m["id"]] = {"verdict": "differs", "maxAbsDiff": d if math.isfinite(d) else "inf"}
    json.dump({"torch": torch.__version__, "bases": bases, "results": results, "skipped": skipped}, sys.stdout,
              indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
