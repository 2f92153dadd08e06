#!/usr/bin/python3
"""Make the small ONNX test fixtures in fixtures/ (random weights, seeded, deterministic).

    /usr/bin/python3 tools/make_fixtures.py [--out fixtures]

Writes, for tiny-deit, tiny-unet and tiny-swin, an opset-17 and an opset-13 export, an external-data copy of
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
import onnx_torch_eval  # noqa: E402
from quantlens_models import DDIMUNet, MatMul, SwinTransformer, VisionTransformer  # noqa: E402

SEED = 20240601
OPSETS = (17, 13)

# Fixture sizes. Each .onnx stays under 300 KB and each reference dump under 1 MB. The UNet keeps the DDIM
# layout (ch_mult (1, 2), attention at one resolution, skip Concats) and the channels-per-group of the shipped
# model's GroupNorm(32) over 32 and 64 channels (1 and 2), at 8 channels / 8 groups and 8x8: with 32 base
# channels the 3x3 convs alone make a 2.9 MB file and a 1.3 MB dump.
DEIT = dict(img_size=16, patch_size=4, in_chans=3, num_classes=10, embed_dim=32, depth=2, num_heads=2)
# Swin: 16x16 input, patch 2 -> 8x8 tokens, window 4, so stage 1 has 4 windows and its second block shifts them
# (torch.roll -> Slice/Concat); patch merging (norm -> reduction without bias) -> 4x4, where one window covers
# the map and nothing shifts. Relative position bias in every block, the shift mask in the shifted one.
SWIN = dict(img_size=16, patch_size=2, in_chans=3, num_classes=10, embed_dim=16, depths=(2, 2), num_heads=(2, 4),
            window_size=4, drop_path_rate=0.0)
UNET = dict(img_size=8, in_ch=1, ch=8, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(4,), dropout=0.0,
            groups=8)


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
    dropped gamma. A few LayerNorm gamma channels are made large, as in trained ViTs."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
                n = m.weight.numel()
                w = 0.5 + torch.rand(n, generator=gen)
                idx = torch.randperm(n, generator=gen)[:2]
                # Outlier channels only after LayerNorm, where ViTs have them; in the UNet they would push
                # activations to ~20, where float32 rounding alone exceeds the probe test's 1e-5 bound.
                if isinstance(m, nn.LayerNorm):
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


def leaf_name(module_path: str) -> str:
    """Last attribute of a module path, a list index kept attached (down.0.block.1 -> block.1).

    torch 1.13 names nodes by the chain of modules that were *called*, each by this leaf name (containers that
    are only indexed, like the DDIM code's down[i], do not appear; repeats get _1, _2 suffixes), so the leaf
    name is a hint for picking among equal values, never the mapping itself."""
    parts = module_path.split(".")
    if parts[-1].isdigit() and len(parts) > 1:
        return parts[-2] + "." + parts[-1]
    return parts[-1]


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype:
        return False
    tol = 1e-4 * max(1.0, float(b.abs().max()) if b.numel() else 1.0)
    return bool(torch.allclose(a, b, rtol=1e-4, atol=tol))


def map_records(model: onnx.ModelProto, feeds: Dict[str, torch.Tensor], expected: Dict[str, torch.Tensor],
                records) -> List[Dict]:
    """Finds, for every hook tensor, the ONNX value that the exported graph computes equal to it.

    The graph is evaluated with tools/onnx_torch_eval.py; candidates are restricted by op type (inputs of
    Conv, inputs of MatMul/Gemm with a constant weight for Linear, activation operands of MatMul for MatMul
    modules, Softmax / LayerNormalization outputs, any output for decomposed norms), then by value."""
    env = onnx_torch_eval.run(model, feeds)
    for name, want in expected.items():
        if not _close(env[name], want):
            diff = float((env[name] - want).abs().max())
            raise SystemExit(f"graph output {name} differs from PyTorch (max abs {diff:g})")
    consts = {i.name for i in model.graph.initializer}
    consts |= {n.output[0] for n in model.graph.node if n.op_type in ("Constant", "Identity")
               and (n.op_type == "Constant" or n.input[0] in consts)}
    has_ln = any(n.op_type == "LayerNormalization" for n in model.graph.node)
    out: List[Dict] = []
    for path, kind, index, t in records:
        cand: List[Tuple[onnx.NodeProto, str]] = []
        for n in model.graph.node:
            if kind == "conv_input" and n.op_type == "Conv":
                cand.append((n, n.input[0]))
            elif kind == "matmul_input" and index is None and n.op_type in ("MatMul", "Gemm") \
                    and n.input[1] in consts:
                cand.append((n, n.input[0]))
            elif kind == "matmul_input" and index is not None and n.op_type == "MatMul" \
                    and n.input[0] not in consts and n.input[1] not in consts:
                cand.append((n, n.input[index]))
            elif kind == "softmax_output" and n.op_type == "Softmax":
                cand.append((n, n.output[0]))
            elif kind == "layernorm_output" and has_ln:
                if n.op_type == "LayerNormalization":
                    cand.append((n, n.output[0]))
            elif kind in ("layernorm_output", "groupnorm_output") and n.op_type not in ("Constant", "Identity"):
                cand.append((n, n.output[0]))
        matches = [(n, v) for n, v in cand if _close(env[v], t)]
        if not matches:
            raise SystemExit(f"{path} ({kind}{'' if index is None else ' operand ' + str(index)}): no ONNX "
                             f"value equals the PyTorch tensor of shape {list(t.shape)} "
                             f"({len(cand)} candidates by op type)")
        leaf = leaf_name(path)
        hinted = [(n, v) for n, v in matches if f"/{leaf}/" in n.name or f"/{leaf}_" in n.name]
        if kind in ("groupnorm_output",) or (kind == "layernorm_output" and not has_ln):
            if not hinted:
                raise SystemExit(f"{path} ({kind}): equal values found but none in a scope named {leaf}: "
                                 f"{[n.name for n, _ in matches]}")
        _, value = (hinted or matches)[0]
        e = {"module": path, "kind": kind}
        if index is not None:
            e["input_index"] = index  # MatMul modules have two activation operands
        e["tensor"] = value
        e.update(tensor_entry(t))
        out.append(e)
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
        tensors = map_records(m, dict(zip(input_names, args)), {output_name: y}, records)
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

    # Made after the others, from its own seeds, so adding it left their bytes unchanged.
    torch.manual_seed(SEED + 4)
    gen = torch.Generator().manual_seed(SEED + 5)
    swin = SwinTransformer(**SWIN)
    randomize(swin, gen)
    x = torch.randn(2, SWIN["in_chans"], SWIN["img_size"], SWIN["img_size"], generator=gen)
    make("tiny-swin", swin, (x,), ["pixel_values"], "logits", outdir)

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
