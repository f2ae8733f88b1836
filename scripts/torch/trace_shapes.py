"""Traces the shape of every tensor-valued local name in driverless module files, in real torch.

Usage: python3 trace_shapes.py MODULES_DIR HARNESS_DIR > shapes.json

For each MODULES_DIR/<name>.py with a HARNESS_DIR/<name>.py beside it, imports both, calls every
`(callable, args, kwargs)` of the harness's `cases(mod)`, and records, through sys.settrace, each
local name of a frame executing in the module file whose value became a (new) tensor: the line
of the statement that bound it (the previous line event of that frame) and its shape. Output:
{"<name>.py": {"cases": N, "errors": [...], "names": [{"line": L, "name": n, "shapes": [[...], ...]}],
"outputs": [[[...], ...] or null, ...]}}: "outputs" holds, per case, the shapes of the tensors the
call returned (a tuple's or list's in order), null where the case raised.
The analyzer's own shapes for the same file are compared with these by the real-code test.
"""

import importlib.util
import json
import os
import sys

import torch

sys.dont_write_bytecode = True


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def tensor_shapes(v):
    if isinstance(v, torch.Tensor):
        return [list(v.shape)]
    if isinstance(v, (tuple, list)):
        return [s for x in v for s in tensor_shapes(x)]
    return []


def trace_file(mod_path, harness_path):
    target = os.path.realpath(mod_path)
    stem = os.path.splitext(os.path.basename(mod_path))[0]
    mod = load(mod_path, f"realstyle_{stem}")
    harness = load(harness_path, f"realstyle_harness_{stem}")
    records = {}
    frames = {}

    def snapshot(frame):
        out = {}
        for k, v in frame.f_locals.items():
            if isinstance(v, torch.Tensor):
                out[k] = (id(v), tuple(v.shape))
        return out

    def local(frame, event, arg):
        if event not in ("line", "return"):
            return local
        key = id(frame)
        prev, before = frames.get(key, (None, None))
        now = snapshot(frame)
        if prev is not None:
            for k, sig in now.items():
                if before.get(k) != sig:
                    records.setdefault((prev, k), set()).add(sig[1])
        if event == "return":
            frames.pop(key, None)
        else:
            frames[key] = (frame.f_lineno, now)
        return local

    def calls(frame, event, arg):
        if event == "call" and os.path.realpath(frame.f_code.co_filename) == target:
            frames[id(frame)] = (None, None)
            return local
        return None

    torch.manual_seed(0)
    cases = harness.cases(mod)
    errors = []
    outputs = []
    with torch.no_grad():
        for i, (fn, args, kwargs) in enumerate(cases):
            sys.settrace(calls)
            try:
                outputs.append(tensor_shapes(fn(*args, **kwargs)))
            except Exception as e:  # reported, and the test fails on it
                errors.append(f"case {i}: {type(e).__name__}: {e}")
                outputs.append(None)
            finally:
                sys.settrace(None)
                frames.clear()
    names = [
        {"line": line, "name": name, "shapes": sorted(list(s) for s in shapes)}
        for (line, name), shapes in sorted(records.items())
    ]
    return {"cases": len(cases), "errors": errors, "names": names, "outputs": outputs}


def main():
    modules_dir, harness_dir = sys.argv[1], sys.argv[2]
    out = {}
    for f in sorted(os.listdir(modules_dir)):
        if not f.endswith(".py"):
            continue
        h = os.path.join(harness_dir, f)
        if not os.path.exists(h):
            out[f] = {"cases": 0, "errors": ["no harness"], "names": []}
            continue
        try:
            out[f] = trace_file(os.path.join(modules_dir, f), h)
        except Exception as e:
            out[f] = {"cases": 0, "errors": [f"import: {type(e).__name__}: {e}"], "names": []}
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
