"""Writes golden values from real torch for the runtime's differential tests.

Usage: python3 goldens.py ops CASES.json OUTDIR
       python3 goldens.py blocks CASES.json OUTDIR

ops: CASES.json is a list of {"id", "fn", "inputs": [{"shape", "dtype", "fill"}],
  "args": [...], "kwargs": {...}}. "fn" is a dotted name under torch
  ("matmul", "nn.functional.conv2d") or "Tensor.<method>"; in args and kwargs
  the string "$i" stands for input i, "$Ti" for its transpose, ["$tuple", ...]
  for a tuple and ["$list", ...] for a list; "permute0" permutes input 0 first. Inputs are
  drawn from one seeded generator ("randn" by default; "positive", "perm" for a
  permutation of 0..n-1, distinct values for ops whose tie order torch leaves open). For each case OUTDIR/<id>.safetensors holds
  in0.. and out0.. (a tuple result gives several outputs; a bool result is
  stored as BOOL), and results.json records {"id", "ok", "error"}: "error" is
  the Python exception's class name and message when torch raised.
blocks: CASES.json is a list of {"id", "code", "className", "inputs"} like
  run_cases.py; the module is built under torch.manual_seed(0), put in eval
  mode and run under no_grad. OUTDIR/<id>.safetensors holds the state_dict
  under "state.<key>", the inputs under "input.<name>" and the outputs under
  "output.<i>".
Safetensors is written here with struct/json (no pip packages). The script
knows no op and no block beyond what the cases say.
"""

import importlib.util
import json
import math
import os
import struct
import sys
import traceback

import torch

DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.bool: "BOOL"}


def write_safetensors(path, tensors):
    header = {}
    blobs = []
    off = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        if t.dtype not in DTYPES:
            t = t.float() if t.is_floating_point() else t.long()
        data = t.numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_input(spec, gen):
    shape = spec["shape"]
    dtype = spec.get("dtype", "float")
    fill = spec.get("fill", "randn")
    if fill == "padding":
        n, s = shape
        m = torch.zeros(n, s, dtype=torch.bool)
        pad = min(max(1, s // 4), s - 1)
        for b in range(1, n, 2):
            if pad > 0:
                m[b, s - pad:] = True
        return m
    if fill in ("causal-ignore", "causal-keep", "causal-additive"):
        l, s = shape[-2], shape[-1]
        upper = torch.ones(l, s, dtype=torch.bool).triu(1)
        base = {"causal-ignore": upper, "causal-keep": ~upper,
                "causal-additive": torch.zeros(l, s).masked_fill(upper, float("-inf"))}[fill]
        return base.expand(*shape).clone()
    if fill == "perm":
        t = torch.randperm(math.prod(shape), generator=gen).reshape(shape)  # distinct values
        return t if dtype == "int64" else t.float()
    if dtype == "bool":
        return torch.rand(*shape, generator=gen) < 0.3
    if dtype == "int64":
        hi = spec.get("high", 5)
        return torch.randint(0, hi, tuple(shape), generator=gen)
    if fill == "positive":
        return torch.rand(*shape, generator=gen) + 0.5
    return torch.randn(*shape, generator=gen)


def resolve(fn):
    if fn.startswith("Tensor."):
        name = fn[len("Tensor."):]
        return lambda self, *a, **k: getattr(self, name)(*a, **k)
    obj = torch
    if fn.startswith("einops."):
        import einops  # noqa: PLC0415 - the einops cases run where it is installed (trixie)

        obj = einops
        fn = fn[len("einops."):]
    for part in fn.split("."):
        obj = getattr(obj, part)
    return obj


def subst(v, inputs):
    if isinstance(v, str) and v.startswith("$") and v[1:].isdigit():
        return inputs[int(v[1:])]
    if isinstance(v, str) and v.startswith("$T") and v[2:].isdigit():
        return inputs[int(v[2:])].t()
    if isinstance(v, list):
        if v and v[0] == "$tuple":
            return tuple(subst(x, inputs) for x in v[1:])
        if v and v[0] == "$list":
            return [subst(x, inputs) for x in v[1:]]
        return [subst(x, inputs) for x in v]
    if isinstance(v, dict):
        return {k: subst(x, inputs) for k, x in v.items()}
    if v == "$inf":
        return float("inf")
    if v == "$-inf":
        return float("-inf")
    return v


def flatten_out(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(flatten_out(o))
        return res
    if out is None:
        return []
    return [torch.tensor(out)]


def run_ops(cases, outdir):
    results = []
    for case in cases:
        gen = torch.Generator().manual_seed(case.get("seed", 0))
        inputs = [make_input(s, gen) for s in case["inputs"]]
        tensors = {"in%d" % i: t for i, t in enumerate(inputs)}
        if case.get("permute0"):
            inputs[0] = inputs[0].permute(*case["permute0"])  # saved unpermuted; the test permutes too
        try:
            with torch.no_grad():
                out = resolve(case["fn"])(*subst(case.get("args", []), inputs), **subst(case.get("kwargs", {}), inputs))
            for i, o in enumerate(flatten_out(out)):
                tensors["out%d" % i] = o
            results.append({"id": case["id"], "ok": True})
        except Exception as e:  # the failure is data: the suite compares it with the runtime's
            results.append({"id": case["id"], "ok": False, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")})
        write_safetensors(os.path.join(outdir, case["id"] + ".safetensors"), tensors)
    return results


def perturb(model, gen):
    """Perturbs zero-initialised parameters (gamma, zero BN) so a block's whole path is exercised."""
    for _, p in model.named_parameters():
        p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    for name, b in model.named_buffers():
        if name.endswith("running_var"):
            b.copy_(torch.rand(b.shape, generator=gen) + 1.0)
        elif name.endswith("running_mean"):
            b.copy_(torch.randn(b.shape, generator=gen) * 0.1)


def run_blocks(cases, outdir):
    results = []
    for i, case in enumerate(cases):
        try:
            path = os.path.join(outdir, "block_%d.py" % i)
            with open(path, "w") as f:
                f.write(case["code"])
            spec = importlib.util.spec_from_file_location("block_%d" % i, path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            torch.manual_seed(0)
            model = getattr(mod, case["className"])()
            model.eval()
            gen = torch.Generator().manual_seed(1)
            inputs = [make_input(s, gen) for s in case["inputs"]]
            with torch.no_grad():
                perturb(model, gen)
                out = model(*inputs)
            outs = list(out) if isinstance(out, tuple) else [out]
            tensors = {"state." + k: v for k, v in model.state_dict().items()}
            for s, t in zip(case["inputs"], inputs):
                tensors["input." + s["name"]] = t
            for j, o in enumerate(outs):
                tensors["output.%d" % j] = o
            write_safetensors(os.path.join(outdir, case["id"] + ".safetensors"), tensors)
            results.append({"id": case["id"], "ok": True})
        except Exception as e:
            results.append({"id": case["id"], "ok": False, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc(limit=3)})
    return results


def main():
    mode, cases_path, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(cases_path) as f:
        cases = json.load(f)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    os.makedirs(outdir, exist_ok=True)
    results = run_ops(cases, outdir) if mode == "ops" else run_blocks(cases, outdir)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"torch": torch.__version__, "results": results}, f)


if __name__ == "__main__":
    main()
