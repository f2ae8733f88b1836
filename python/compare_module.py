"""Compare with PyTorch: runs a user's nn.Module in real torch on the state_dict and inputs the
bundled runtime used, and writes every module's first output, for Attention Forge's per-layer
comparison. Started by the extension only on the user's explicit request, in a trusted workspace.

Usage: python3 compare_module.py MODULE_FILE CLASS_NAME DIR

DIR holds request.json ({"args": [...], "kwargs": {...}}, tuples as {"tuple": [...]}),
state.safetensors (the state_dict) and inputs.safetensors (input0, input1, ...). Writes
DIR/torch.safetensors (one tensor per module path that returned a tensor: "layer:<path>", the
root as "layer:") and DIR/result.json ({"torch": version}). Any failure is one line on stderr
and exit status 1.
"""

import importlib.util
import json
import os
import struct
import sys

DTYPES = {"F32": "float32", "I64": "int64", "BOOL": "bool"}


def read_safetensors(path, torch):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        dtype = getattr(torch, DTYPES[spec["dtype"]])
        raw = bytearray(body[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(spec["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    names = {"float32": "F32", "int64": "I64", "bool": "BOOL"}
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        kind = str(t.dtype).replace("torch.", "")
        if kind not in names:
            t, kind = t.float(), "float32"
        raw = t.numpy().tobytes()
        header[name] = {"dtype": names[kind], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def plain(v):
    if isinstance(v, dict) and "tuple" in v:
        return tuple(plain(x) for x in v["tuple"])
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def first_tensor(v, torch):
    if isinstance(v, torch.Tensor):
        return v
    if isinstance(v, (tuple, list)):
        for x in v:
            t = first_tensor(x, torch)
            if t is not None:
                return t
    return None


def main():
    module_file, class_name, work = sys.argv[1], sys.argv[2], sys.argv[3]
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(module_file)))
    spec = importlib.util.spec_from_file_location("attention_forge_compare", module_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with open(os.path.join(work, "request.json")) as f:
        req = json.load(f)
    model = getattr(mod, class_name)(*plain(req.get("args", [])), **{k: plain(v) for k, v in req.get("kwargs", {}).items()})
    model.load_state_dict(read_safetensors(os.path.join(work, "state.safetensors"), torch), strict=True)
    model.eval()
    inputs = read_safetensors(os.path.join(work, "inputs.safetensors"), torch)
    args = [inputs["input%d" % i] for i in range(len(inputs))]
    outputs = {}

    def hook(path):
        def record(_module, _inputs, output):
            t = first_tensor(output, torch)
            if t is not None and ("layer:" + path) not in outputs:
                outputs["layer:" + path] = t
        return record

    for path, m in model.named_modules():
        m.register_forward_hook(hook(path))
    with torch.no_grad():
        model(*args)
    write_safetensors(os.path.join(work, "torch.safetensors"), outputs)
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump({"torch": torch.__version__}, f)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the panel; the user's own traceback is theirs to read in Python
        sys.stderr.write("%s: %s\n" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
        sys.exit(1)
