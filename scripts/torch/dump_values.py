"""Records what real torch computes for every case of the driverless real-style corpus, so the
bundled runtime can be compared with it value for value on the same weights and inputs.

Usage: python3 dump_values.py MODULES_DIR HARNESS_DIR OUT_DIR

For each MODULES_DIR/<name>.py with a HARNESS_DIR/<name>.py beside it, calls every
`(callable, args, kwargs)` of the harness's `cases(mod)` (after `torch.manual_seed(0)`, as
trace_shapes.py does) and writes OUT_DIR/<name>.safetensors with, for case i:
  "<i>.state.<key>"   the state_dict of the module the case calls (the callable itself, or the
                      module a bound method belongs to), taken just before the call;
  "<i>.arg.<j>"       a tensor positional argument ("<i>.arg.<j>.<k>" for the k-th tensor of a
                      list or tuple argument), "<i>.kwarg.<name>" a tensor keyword argument;
  "<i>.argstate.<j>.<key>", "<i>.kwargstate.<name>.<key>": the state_dict of a module passed
                      as an argument;
  "<i>.out.<j>"       the j-th tensor of the output (a tuple's or list's in order);
  "<i>.attn.<k>"      the k-th attention map the call computed, by the rule the preview
                      captures maps with (src/runtime/capture.ts): every softmax over the last
                      axis of a float tensor of rank >= 2 whose last two sizes are >= 2, and
                      every scaled_dot_product_attention's weights (computed once more, on the
                      explicit path), in the order torch computed them, at most 32.
A complex tensor is stored as torch.view_as_real under its key with "@complex" appended.
Prints {"<name>.py": {"cases": N, "errors": [...], "random": [i, ...], "scripted": [i, ...]}} as
JSON, where "random" lists the cases that drew from torch's generator (sampling): their values
depend on torch's random stream, which the bundled runtime does not reproduce; "scripted" the
cases that call TorchScript, whose attention maps cannot be observed from Python. The writer is the one Compare with
PyTorch uses (python/compare_module.py): float32, int64 and bool; other dtypes as float32.
"""

import importlib.util
import json
import os
import sys

import torch

sys.dont_write_bytecode = True
# oneDNN off: on this machine's Debian torch 2.6 (oneDNN 3.7.2, AVX-512) its float32 convolution
# is wrong for some shapes: a 24-channel 3×3 conv on an 8×8 input is 0.395 off a float64
# reference, where torch's own non-oneDNN kernel is 1e-6 off.
torch.backends.mkldnn.enabled = False
REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def owner(fn):
    if isinstance(fn, torch.nn.Module):
        return fn
    bound = getattr(fn, "__self__", None)
    return bound if isinstance(bound, torch.nn.Module) else None


def flat_tensors(v):
    if isinstance(v, torch.Tensor):
        return [v]
    if isinstance(v, (tuple, list)):
        return [t for x in v for t in flat_tensors(x)]
    return []


def put(tensors, key, t):
    """A tensor under its key; a complex one as torch.view_as_real under "<key>@complex"."""
    if t.is_complex():
        tensors[key + "@complex"] = torch.view_as_real(t).clone()
    else:
        tensors[key] = t.clone()


class AttentionMaps:
    """Records attention maps while `maps` is a list (torch.softmax, Tensor.softmax and
    F.scaled_dot_product_attention patched for the whole run; a softmax inside a recorded call
    is not recorded again)."""

    LIMIT = 32

    def __init__(self):
        self.maps = None
        self.depth = 0

    def keep(self, w):
        if self.maps is not None and len(self.maps) < self.LIMIT:
            self.maps.append(w.detach().clone())

    def softmax(self, orig):
        def wrapped(x, *args, **kwargs):
            if self.depth:
                return orig(x, *args, **kwargs)
            self.depth += 1
            try:
                out = orig(x, *args, **kwargs)
            finally:
                self.depth -= 1
            dim = args[0] if args else kwargs.get("dim")
            nd = out.dim()
            if dim is None:  # F.softmax's implicit dim
                dim = 0 if nd in (0, 1, 3) else 1
            if nd >= 2 and dim % nd == nd - 1 and out.shape[-1] >= 2 and out.shape[-2] >= 2 and out.is_floating_point():
                self.keep(out)
            return out

        return wrapped

    def sdpa(self, orig):
        def wrapped(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *args, **kwargs):
            if self.depth:
                return orig(query, key, value, attn_mask, dropout_p, is_causal, *args, **kwargs)
            self.depth += 1
            try:
                out = orig(query, key, value, attn_mask, dropout_p, is_causal, *args, **kwargs)
                scale = kwargs.get("scale")
                s = (query @ key.transpose(-2, -1)) * (scale if scale is not None else query.size(-1) ** -0.5)
                if is_causal:
                    L, S = query.size(-2), key.size(-2)
                    s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
                if attn_mask is not None:
                    s = s.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else s + attn_mask
                self.keep(torch.softmax(s, dim=-1))
            finally:
                self.depth -= 1
            return out

        return wrapped

    def install(self):
        # F.softmax (and nn.Softmax) reach Tensor.softmax; F.softmax itself stays torch's, so
        # TorchScript still compiles code that calls it (scripted code is not observed).
        F = torch.nn.functional
        torch.softmax = self.softmax(torch.softmax)
        torch.Tensor.softmax = self.softmax(torch.Tensor.softmax)
        if hasattr(F, "scaled_dot_product_attention"):
            F.scaled_dot_product_attention = self.sdpa(F.scaled_dot_product_attention)


MAPS = AttentionMaps()


def dump_file(mod_path, harness_path, out_path, write):
    stem = os.path.splitext(os.path.basename(mod_path))[0]
    mod = load(mod_path, f"realstyle_{stem}")
    harness = load(harness_path, f"realstyle_harness_{stem}")
    torch.manual_seed(0)
    cases = harness.cases(mod)
    tensors, errors, random, scripted = {}, [], [], []
    with torch.no_grad():
        for i, (fn, args, kwargs) in enumerate(cases):
            m = owner(fn)
            if m is not None:
                for k, t in m.state_dict().items():
                    tensors[f"{i}.state.{k}"] = t.clone()
            for j, a in enumerate(args):
                if isinstance(a, torch.nn.Module):
                    for k, t in a.state_dict().items():
                        tensors[f"{i}.argstate.{j}.{k}"] = t.clone()
                elif isinstance(a, torch.Tensor):
                    put(tensors, f"{i}.arg.{j}", a)
                elif isinstance(a, (tuple, list)):
                    for k, t in enumerate(x for x in a if isinstance(x, torch.Tensor)):
                        put(tensors, f"{i}.arg.{j}.{k}", t)
            for name, a in kwargs.items():
                if isinstance(a, torch.nn.Module):
                    for k, t in a.state_dict().items():
                        tensors[f"{i}.kwargstate.{name}.{k}"] = t.clone()
                elif isinstance(a, torch.Tensor):
                    put(tensors, f"{i}.kwarg.{name}", a)
            rng = torch.get_rng_state()
            MAPS.maps = []
            try:
                out = fn(*args, **kwargs)
            except Exception as e:  # reported; the test fails on it
                errors.append(f"case {i}: {type(e).__name__}: {e}")
                continue
            finally:
                maps, MAPS.maps = MAPS.maps, None
            if isinstance(fn, (torch.jit.ScriptModule, torch.jit.ScriptFunction)) or isinstance(m, torch.jit.ScriptModule):
                scripted.append(i)  # its graph runs aten ops directly: no map is observed
            else:
                for k, w in enumerate(maps):
                    put(tensors, f"{i}.attn.{k}", w)
            if not torch.equal(rng, torch.get_rng_state()):
                random.append(i)
            for j, t in enumerate(flat_tensors(out)):
                put(tensors, f"{i}.out.{j}", t)
    write(out_path, tensors)
    return {"cases": len(cases), "errors": errors, "random": random, "scripted": scripted}


def main():
    modules_dir, harness_dir, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    compare = load(os.path.join(REPO, "python", "compare_module.py"), "attention_forge_compare_module")
    os.makedirs(out_dir, exist_ok=True)
    MAPS.install()
    report = {}
    for f in sorted(os.listdir(modules_dir)):
        h = os.path.join(harness_dir, f)
        if not f.endswith(".py") or not os.path.exists(h):
            continue
        out_path = os.path.join(out_dir, f[:-3] + ".safetensors")
        try:
            report[f] = dump_file(os.path.join(modules_dir, f), h, out_path, compare.write_safetensors)
        except Exception as e:
            report[f] = {"cases": 0, "errors": [f"import: {type(e).__name__}: {e}"]}
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
