#!/usr/bin/python3
"""Random-weight models for the benchmarks (bench/): the architectures quantlens ships and the paper-sized ones.

    /usr/bin/python3 tools/make_scale_models.py [--models deit-s,vit-b,ddim-cifar10] [--out DIR] [--force]

Writes into DIR (default ~/.cache/quantlens/bench, never the repository), for each model NAME:
  NAME.onnx       opset 17, dynamic batch, exported with torch.onnx.export as tools/export.py does,
  NAME.pt         the same weights as a PyTorch state dict (tools/bench_torch.py and tools/calib_torch.py load it,
                  so both sides of a side-by-side benchmark run the same model),
  NAME.json       architecture, constructor arguments, parameters, GFLOPs per image, torch version, seed,
  NAME.calib.npz  (UNets only) 32 calibration inputs named after the model inputs: x (noised images) and t.
Existing files are kept (the script is resumable) unless --force is given.

Models:
  deit-cifar10  the shipped DeiT's configuration (tools/train.py CONFIGS), random weights: 2.7M parameters, 32x32
  ddim-fmnist   the shipped DDIM UNet's configuration (tools/train.py CONFIGS), random weights
  deit-s        DeiT-S/16 at 224x224, 1000 classes: 22M parameters
  vit-b         ViT-B/16 at 224x224, 1000 classes: 86M parameters
  ddim-cifar10  the DDIM CIFAR-10 UNet (ch 128, ch_mult (1,2,2,2), 2 res blocks, attention at 16x16): 36M parameters

Weights are the modules' own initialisation plus non-trivial norms and biases (LayerNorm gammas with a few
outlier channels, as trained ViTs have), so that torch.onnx does not de-duplicate equal initializers and the
post-LayerNorm statistics look like a trained model's in kind. Timing and memory depend on the architecture only.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
from typing import Dict, Tuple

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402
from quantlens_models import DDIMUNet, VisionTransformer, count_flops, count_params  # noqa: E402

DEFAULT_OUT = os.path.join(os.path.expanduser("~"), ".cache", "quantlens", "bench")
SEED = 20240817


def _shipped(name: str) -> Dict:
    cfg = T.CONFIGS[name]
    kw = dict(cfg["model"])
    kw.pop("drop_path_rate", None)
    return dict(arch=cfg["arch"], kwargs=kw, preprocess=cfg["preprocess"], scheduler=cfg.get("scheduler"))


IMAGENET_PRE = dict(size=224, pad=0, channels=3, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])

MODELS: Dict[str, Dict] = {
    "deit-cifar10": _shipped("deit-cifar10"),
    "ddim-fmnist": _shipped("ddim-fmnist"),
    "deit-s": dict(arch="deit", kwargs=dict(img_size=224, patch_size=16, in_chans=3, num_classes=1000,
                                            embed_dim=384, depth=12, num_heads=6), preprocess=IMAGENET_PRE),
    "vit-b": dict(arch="deit", kwargs=dict(img_size=224, patch_size=16, in_chans=3, num_classes=1000,
                                           embed_dim=768, depth=12, num_heads=12), preprocess=IMAGENET_PRE),
    "ddim-cifar10": dict(arch="ddim-unet", kwargs=dict(img_size=32, in_ch=3, ch=128, ch_mult=[1, 2, 2, 2],
                                                       num_res_blocks=2, attn_resolutions=[16], dropout=0.1,
                                                       groups=32),
                         preprocess=dict(size=32, pad=0, channels=3, mean=[0.5] * 3, std=[0.5] * 3),
                         scheduler=dict(type="ddim", betaSchedule="linear", betaStart=1e-4, betaEnd=0.02,
                                        trainSteps=1000)),
}


def build(spec: Dict) -> nn.Module:
    """The PyTorch module of a MODELS entry (also used by bench_torch.py and calib_torch.py)."""
    kw = dict(spec["kwargs"])
    if spec["arch"] == "deit":
        return VisionTransformer(**kw)
    if spec["arch"] == "ddim-unet":
        return DDIMUNet(**kw)
    raise ValueError(spec["arch"])


def randomize(model: nn.Module, gen: torch.Generator) -> None:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
                n = m.weight.numel()
                w = 0.5 + torch.rand(n, generator=gen)
                if isinstance(m, nn.LayerNorm):
                    w[torch.randperm(n, generator=gen)[:max(2, n // 64)]] *= 4.0
                m.weight.copy_(w)
                m.bias.copy_(0.1 * torch.randn(n, generator=gen))
            elif isinstance(m, (nn.Linear, nn.Conv2d)) and m.bias is not None:
                m.bias.copy_(0.02 * torch.randn(m.bias.shape, generator=gen))


def sample_args(spec: Dict, n: int, gen: torch.Generator) -> Tuple[torch.Tensor, ...]:
    kw = spec["kwargs"]
    if spec["arch"] == "ddim-unet":
        x = torch.randn(n, kw["in_ch"], kw["img_size"], kw["img_size"], generator=gen)
        t = torch.randint(0, 1000, (n,), generator=gen)
        return (x, t)
    return (torch.randn(n, kw["in_chans"], kw["img_size"], kw["img_size"], generator=gen),)


def io_names(spec: Dict):
    return (["x", "t"], ["eps"]) if spec["arch"] == "ddim-unet" else (["pixel_values"], ["logits"])


def save_atomic_bytes(data: bytes, path: str) -> None:
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def make(name: str, out: str, force: bool) -> None:
    spec = MODELS[name]
    paths = {k: os.path.join(out, f"{name}.{k}") for k in ("onnx", "pt", "json")}
    unet = spec["arch"] == "ddim-unet"
    if unet:
        paths["calib"] = os.path.join(out, f"{name}.calib.npz")
    if not force and all(os.path.exists(p) for p in paths.values()):
        print(f"{name}: present in {out}", flush=True)
        return
    t0 = time.time()
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    model = build(spec)
    randomize(model, gen)
    model.eval()
    ins, outs = io_names(spec)
    args = sample_args(spec, 2, gen)
    buf = io.BytesIO()
    torch.onnx.export(model, args, buf, export_params=True, opset_version=17, do_constant_folding=True,
                      input_names=ins, output_names=outs, dynamic_axes={n: {0: "batch"} for n in ins + outs})
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    save_atomic_bytes(data, paths["onnx"])
    sd = io.BytesIO()
    torch.save(model.state_dict(), sd)
    save_atomic_bytes(sd.getvalue(), paths["pt"])
    if unet:
        # 32 noised inputs at random time steps, as a time step-aware calibration set would hold.
        cg = torch.Generator().manual_seed(SEED + 2)
        x0 = torch.rand(32, spec["kwargs"]["in_ch"], 32, 32, generator=cg) * 2 - 1
        t = torch.randint(0, 1000, (32,), generator=cg)
        acp = T.ddpm_alphas_cumprod(spec["scheduler"])[t].view(-1, 1, 1, 1)
        x = acp.sqrt() * x0 + (1 - acp).sqrt() * torch.randn(x0.shape, generator=cg)
        tmp = paths["calib"] + ".tmp.npz"
        np.savez(tmp, x=x.numpy().astype(np.float32), t=t.numpy().astype(np.int64))
        os.replace(tmp, paths["calib"])
    info = {
        "name": name, "arch": spec["arch"], "kwargs": spec["kwargs"], "weights": "random", "seed": SEED,
        "params": count_params(model),
        "gflops_per_image": round(count_flops(model, *[a[:1] for a in args]) / 1e9, 4),
        "preprocess": spec["preprocess"], "scheduler": spec.get("scheduler"),
        "inputs": ins, "outputs": outs, "opset": 17, "onnx_bytes": len(data),
        "onnx_sha256": hashlib.sha256(data).hexdigest(), "torch": torch.__version__,
        "export_seconds": round(time.time() - t0, 1),
    }
    save_atomic_bytes((json.dumps(info, indent=1) + "\n").encode(), paths["json"])
    print(f"{name}: {info['params']:,} parameters, {info['gflops_per_image']} GFLOPs/image, "
          f"{len(data) / 1e6:.1f} MB ONNX, {info['export_seconds']} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="deit-s,vit-b,ddim-cifar10",
                    help=f"comma-separated, from: {', '.join(MODELS)}")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="remake files that exist")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("QL_THREADS", "2")))
    os.makedirs(a.out, exist_ok=True)
    names = [n.strip() for n in a.models.split(",") if n.strip()]
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n}; choose from {', '.join(MODELS)}")
    for n in names:
        make(n, a.out, a.force)


if __name__ == "__main__":
    main()
