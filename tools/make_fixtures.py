#!/usr/bin/python3
"""Make the small ONNX test fixtures in fixtures/ (random weights, seeded, deterministic).

    /usr/bin/python3 tools/make_fixtures.py [--out fixtures]

Writes, for tiny-deit and tiny-unet, an opset-17 and an opset-13 export, an external-data copy of
tiny-deit-op17, and for each export a reference dump (<model>.ref.json) of the model inputs, outputs and the
intermediate tensors that forward hooks see: the inputs of every Linear, Conv2d and MatMul module and the outputs
of every Softmax, LayerNorm and GroupNorm module, each under its ONNX value name. A hook tensor that cannot be
mapped to exactly one value of the right shape is an error.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
from typing import Dict, List, Tuple

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantlens_models import DDIMUNet, MatMul, VisionTransformer  # noqa: E402

SEED = 20240601
OPSETS = (17, 13)

# Fixture sizes. The UNet keeps the DDIM layout (GroupNorm(32), ch_mult (1, 2)) at 8x8 so that the reference
# dump (every conv input at batch 2) stays under 1 MB.
DEIT = dict(img_size=16, patch_size=4, in_chans=3, num_classes=10, embed_dim=32, depth=2, num_heads=2)
UNET = dict(img_size=8, in_ch=1, ch=32, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(4,), dropout=0.0,
            groups=32)


def b64(arr: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(arr, dtype="<f4" if dtype == "float32" else "<i8").tobytes()
                            ).decode("ascii")


def tensor_entry(t: torch.Tensor) -> Dict:
    a = t.detach().cpu().numpy()
    dtype = "int64" if a.dtype == np.int64 else "float32"
    return {"dtype": dtype, "shape": list(a.shape), "data": b64(a, dtype)}


def randomize(model: nn.Module, gen: torch.Generator) -> None:
    """Give norms and biases non-trivial random values.

    Fresh models have all-ones/all-zeros norm parameters and zero biases; torch.onnx (1.13) de-duplicates
    initializers with equal values into Identity nodes, and a test of LayerNorm folding would not notice a
    dropped gamma. A few gamma channels are made large, as in trained ViTs."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
                n = m.weight.numel()
                w = 0.5 + torch.rand(n, generator=gen)
                idx = torch.randperm(n, generator=gen)[:2]
                w[idx] *= 4.0
                m.weight.copy_(w)
                m.bias.copy_(0.1 * torch.randn(n, generator=gen))
            elif isinstance(m, (nn.Linear, nn.Conv2d)) and m.bias is not None:
                m.bias.copy_(0.02 * torch.randn(m.bias.shape, generator=gen))


def export(model: nn.Module, args: Tuple[torch.Tensor, ...], input_names: List[str], output_names: List[str],
           opset: int) -> onnx.ModelProto:
    buf = io.BytesIO()
    dyn = {n: {0: "batch"} for n in input_names + output_names}
    torch.onnx.export(model, args, buf, export_params=True, opset_version=opset, do_constant_folding=True,
                      input_names=input_names, output_names=output_names, dynamic_axes=dyn)
    m = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(m)
    return m


HOOK_KINDS = (
    (nn.Linear, "matmul_input"),
    (nn.Conv2d, "conv_input"),
    (MatMul, "matmul_input"),
    (nn.Softmax, "softmax_output"),
    (nn.LayerNorm, "layernorm_output"),
    (nn.GroupNorm, "groupnorm_output"),
)


def capture(model: nn.Module, args: Tuple[torch.Tensor, ...]):
    """Run the model once with hooks; returns its output and a list of (module path, kind, index, tensor),
    index being the operand number for MatMul modules and None otherwise."""
    records: List[Tuple[str, str, int, torch.Tensor]] = []
    calls: Dict[str, int] = {}
    handles = []
    for name, mod in model.named_modules():
        for cls, kind in HOOK_KINDS:
            if isinstance(mod, cls):
                def hook(m, inp, out, name=name, kind=kind):
                    calls[name] = calls.get(name, 0) + 1
                    if kind.endswith("_output"):
                        records.append((name, kind, None, out.detach().clone()))
                    elif isinstance(m, MatMul):
                        records.append((name, kind, 0, inp[0].detach().clone()))
                        records.append((name, kind, 1, inp[1].detach().clone()))
                    else:
                        records.append((name, kind, None, inp[0].detach().clone()))
                handles.append(mod.register_forward_hook(hook))
                break
    with torch.no_grad():
        out = model(*args)
    for h in handles:
        h.remove()
    twice = [n for n, c in calls.items() if c != 1]
    if twice:
        raise SystemExit(f"modules called more than once, cannot map their hooks: {twice}")
    return out, records


def scope_of(module_path: str) -> str:
    """torch 1.13 scope of a module: attribute names joined by '/', a list index stays attached with '.'
    (blocks.0.attn.qkv -> /blocks.0/attn/qkv)."""
    parts: List[str] = []
    for seg in module_path.split("."):
        if seg.isdigit() and parts:
            parts[-1] += "." + seg
        else:
            parts.append(seg)
    return "/" + "/".join(parts)


def value_shapes(model: onnx.ModelProto, batch: int) -> Dict[str, List[int]]:
    """Static shapes of all values with the batch axis fixed, by ONNX shape inference with data propagation."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in list(m.graph.input) + list(m.graph.output):
        d = vi.type.tensor_type.shape.dim[0]
        if d.dim_param == "batch":
            d.ClearField("dim_param")
            d.dim_value = batch
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    shapes: Dict[str, List[int]] = {}
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    for init in m.graph.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def map_records(model: onnx.ModelProto, records, opset: int) -> List[Dict]:
    nodes = list(model.graph.node)
    by_scope: Dict[str, List[onnx.NodeProto]] = {}
    for n in nodes:
        if n.name.startswith("/") and "/" in n.name[1:]:
            by_scope.setdefault(n.name.rsplit("/", 1)[0], []).append(n)
    shapes = value_shapes(model, batch=2)
    out: List[Dict] = []
    for path, kind, index, t in records:
        scope = scope_of(path)
        in_scope = by_scope.get(scope, [])
        if not in_scope:
            raise SystemExit(f"{path}: no ONNX nodes in scope {scope}")
        if kind == "conv_input":
            cand = [n for n in in_scope if n.op_type == "Conv"]
            pick = lambda n: n.input[0]  # noqa: E731
        elif kind == "matmul_input":
            cand = [n for n in in_scope if n.op_type in ("MatMul", "Gemm")]
            pick = lambda n: n.input[index or 0]  # noqa: E731
        elif kind == "softmax_output":
            cand = [n for n in in_scope if n.op_type == "Softmax"]
            pick = lambda n: n.output[0]  # noqa: E731
        elif kind == "layernorm_output" and opset >= 17:
            cand = [n for n in in_scope if n.op_type == "LayerNormalization"]
            pick = lambda n: n.output[0]  # noqa: E731
        else:
            # Decomposed LayerNorm (opset 13) or GroupNorm (InstanceNormalization + Reshape + Mul + Add): the
            # module's output is the one value made in its scope that nothing else in the scope consumes.
            used = {i for n in in_scope for i in n.input}
            cand = [n for n in in_scope if n.op_type != "Constant" and n.output[0] not in used]
            pick = lambda n: n.output[0]  # noqa: E731
        if len(cand) != 1:
            raise SystemExit(f"{path} ({kind}): expected one node in {scope}, found "
                             f"{[(n.name, n.op_type) for n in cand]}")
        name = pick(cand[0])
        want = list(t.shape)
        got = shapes.get(name)
        if got is None:
            raise SystemExit(f"{path} ({kind}): no inferred shape for ONNX value {name}")
        if got != want:
            raise SystemExit(f"{path} ({kind}): ONNX value {name} has shape {got}, PyTorch tensor {want}")
        e = {"module": path, "kind": kind}
        if index is not None:
            e["input_index"] = index  # MatMul modules have two activation operands
        e.update({"tensor": name, "node": cand[0].name, "op_type": cand[0].op_type})
        e.update(tensor_entry(t))
        out.append(e)
    # A value seen by two hooks (a LayerNorm output feeding qkv, a Softmax output feeding matmul2) must have
    # been the same tensor in PyTorch too: a cheap check of the mapping by value, not only by shape.
    seen: Dict[str, Dict] = {}
    for e in out:
        first = seen.setdefault(e["tensor"], e)
        if first["data"] != e["data"]:
            raise SystemExit(f"{first['module']} and {e['module']} map to {e['tensor']} but differ in PyTorch")
    return out


def save(model: onnx.ModelProto, path: str) -> None:
    tmp = path + ".tmp"
    onnx.save_model(model, tmp)
    os.replace(tmp, path)


def write_json(obj, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


def make(name: str, model: nn.Module, args: Tuple[torch.Tensor, ...], input_names: List[str], output_name: str,
         outdir: str) -> Dict[int, onnx.ModelProto]:
    model.eval()
    y, records = capture(model, args)
    exported = {}
    for opset in OPSETS:
        m = export(model, args, input_names, [output_name], opset)
        fname = f"{name}-op{opset}.onnx"
        save(m, os.path.join(outdir, fname))
        tensors = map_records(m, records, opset)
        ref = {
            "model": fname,
            "inputs": {n: tensor_entry(a) for n, a in zip(input_names, args)},
            "outputs": {output_name: tensor_entry(y)},
            "tensors": tensors,
        }
        write_json(ref, os.path.join(outdir, f"{name}-op{opset}.ref.json"))
        exported[opset] = m
        size = os.path.getsize(os.path.join(outdir, fname))
        rsize = os.path.getsize(os.path.join(outdir, f"{name}-op{opset}.ref.json"))
        print(f"{fname}: {size} bytes, {len(m.graph.node)} nodes; ref {rsize} bytes, {len(tensors)} tensors")
    return exported


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    a = ap.parse_args()
    outdir = os.path.abspath(a.out)
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)

    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    deit = VisionTransformer(**DEIT)
    randomize(deit, gen)
    x = torch.randn(2, DEIT["in_chans"], DEIT["img_size"], DEIT["img_size"], generator=gen)
    deit_models = make("tiny-deit", deit, (x,), ["pixel_values"], "logits", outdir)

    torch.manual_seed(SEED + 2)
    gen = torch.Generator().manual_seed(SEED + 3)
    unet = DDIMUNet(**UNET)
    randomize(unet, gen)
    x = torch.randn(2, UNET["in_ch"], UNET["img_size"], UNET["img_size"], generator=gen)
    t = torch.tensor([10, 500], dtype=torch.int64)
    make("tiny-unet", unet, (x, t), ["x", "t"], "eps", outdir)

    # External-data copy of tiny-deit-op17: same graph, every initializer in weights.bin.
    ext = os.path.join(outdir, "tiny-deit-ext")
    os.makedirs(ext, exist_ok=True)
    for f in ("model.onnx", "weights.bin"):
        if os.path.exists(os.path.join(ext, f)):
            os.remove(os.path.join(ext, f))
    m = onnx.ModelProto()
    m.CopyFrom(deit_models[17])
    onnx.save_model(m, os.path.join(ext, "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    print("tiny-deit-ext/model.onnx + weights.bin:", os.path.getsize(os.path.join(ext, "model.onnx")),
          os.path.getsize(os.path.join(ext, "weights.bin")))


if __name__ == "__main__":
    main()
