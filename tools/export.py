#!/usr/bin/python3
"""Export a trained model to models/ and measure it.

    /usr/bin/python3 tools/export.py --model deit-fmnist [--ckpt PATH] [--out models]

Reads /root/.cache/quantlens/ckpt/<name>/last.pt (the EMA weights for the diffusion model), exports with
torch.onnx.export at opset 17 (models/<name>.onnx) and opset 13 (models/<name>-op13.onnx) with a dynamic batch
axis, and writes models/<name>.metrics.json: PyTorch test metrics on the full test set, for transformers the
per-LayerNorm channel-range ratios, gamma spread and attention sparsity, and a check of both exported graphs
against PyTorch (tools/onnx_torch_eval.py). For the diffusion model also a 100-step DDIM sample grid
(models/<name>-samples.png). Comparing against onnxruntime is the TypeScript side's job.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
from typing import Dict, List

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_torch_eval  # noqa: E402
import train as T  # noqa: E402
from quantlens_models import count_flops, count_params  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def io_names(cfg: Dict):
    if cfg["task"] == "diffusion":
        return ["x", "t"], ["eps"]
    if cfg["task"] == "features":
        return ["pixel_values"], ["features", "logits"]
    return ["pixel_values"], ["logits"]


def sample_inputs(cfg: Dict, x_test: torch.Tensor, n: int, seed: int = 0):
    x = T.normalize(x_test[:n], cfg)
    if cfg["task"] == "diffusion":
        g = torch.Generator().manual_seed(seed)
        t = torch.randint(0, cfg["scheduler"]["trainSteps"], (n,), generator=g)
        acp = T.ddpm_alphas_cumprod(cfg["scheduler"])
        a = acp[t].view(-1, 1, 1, 1)
        x = a.sqrt() * x + (1 - a).sqrt() * torch.randn(x.shape, generator=g)
        return (x, t)
    return (x,)


def export_onnx(model: nn.Module, args, cfg: Dict, opset: int, path: str) -> onnx.ModelProto:
    ins, outs = io_names(cfg)
    buf = io.BytesIO()
    torch.onnx.export(model, args, buf, export_params=True, opset_version=opset, do_constant_folding=True,
                      input_names=ins, output_names=outs, dynamic_axes={n: {0: "batch"} for n in ins + outs})
    m = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(m)
    tmp = path + ".tmp"
    onnx.save_model(m, tmp)
    os.replace(tmp, path)
    return m


def check_export(m: onnx.ModelProto, model: nn.Module, args, cfg: Dict) -> float:
    ins, outs = io_names(cfg)
    with torch.no_grad():
        ref = model(*args)
    ref = ref if isinstance(ref, tuple) else (ref,)
    env = onnx_torch_eval.run(m, dict(zip(ins, args)))
    return max(float((env[o] - r).abs().max()) for o, r in zip(outs, ref))


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@torch.no_grad()
def transformer_stats(model: nn.Module, cfg: Dict, x_test: torch.Tensor, n: int = 256) -> Dict:
    """Per LayerNorm: channel range ratio (largest / median per-channel range of the output over n test images,
    all tokens), |gamma| max / median; per attention Softmax: share of probabilities below 1e-3."""
    ranges: Dict[str, List[torch.Tensor]] = {}
    small: Dict[str, List[int]] = {}
    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.LayerNorm):
            def ln_hook(m, i, o, name=name):
                flat = o.reshape(-1, o.shape[-1])
                lo, hi = flat.min(0).values, flat.max(0).values
                if name in ranges:
                    ranges[name][0] = torch.minimum(ranges[name][0], lo)
                    ranges[name][1] = torch.maximum(ranges[name][1], hi)
                else:
                    ranges[name] = [lo, hi]
            hooks.append(mod.register_forward_hook(ln_hook))
        elif isinstance(mod, nn.Softmax):
            def sm_hook(m, i, o, name=name):
                c = small.setdefault(name, [0, 0])
                c[0] += int((o < 1e-3).sum())
                c[1] += o.numel()
            hooks.append(mod.register_forward_hook(sm_hook))
    model.eval()
    for i in range(0, n, 64):
        model(T.normalize(x_test[i:min(n, i + 64)], cfg))
    for h in hooks:
        h.remove()
    mods = dict(model.named_modules())
    ln = []
    for name, (lo, hi) in ranges.items():
        r = hi - lo
        g = mods[name].weight.detach().abs()
        top = torch.topk(r, min(5, r.numel()))
        ln.append({"module": name, "channels": int(r.numel()),
                   "channel_range_ratio": round(float(r.max() / r.median()), 3),
                   "channel_range_median": round(float(r.median()), 4),
                   "top_channel_ranges": [round(float(v), 3) for v in top.values],
                   "top_channels": [int(v) for v in top.indices],
                   "gamma_abs_max_over_median": round(float(g.max() / g.median()), 3)})
    attn = [{"module": k, "share_below_1e-3": round(v[0] / v[1], 4)} for k, v in small.items()]
    return {"images": n, "layernorm": ln, "attention": attn}


@torch.no_grad()
def ddim_sample_grid(model: nn.Module, cfg: Dict, path: str, n: int = 64, steps: int = 100, seed: int = 0):
    """Deterministic DDIM (eta = 0) sampling on the uniform 1000/steps time-step grid; writes an 8x8 PNG."""
    from PIL import Image
    acp = T.ddpm_alphas_cumprod(cfg["scheduler"])
    T_ = cfg["scheduler"]["trainSteps"]
    ts = list(range(0, T_, T_ // steps))
    g = torch.Generator().manual_seed(seed)
    s = cfg["preprocess"]["size"]
    x = torch.randn(n, cfg["preprocess"]["channels"], s, s, generator=g)
    model.eval()
    for i in reversed(range(len(ts))):
        t = ts[i]
        a = acp[t]
        ap = acp[ts[i - 1]] if i > 0 else torch.tensor(1.0)
        e = model(x, torch.full((n,), t, dtype=torch.int64))
        x0 = (x - (1 - a).sqrt() * e) / a.sqrt()
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * e
    img = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)  # mean/std 0.5 -> pixels
    side = int(np.sqrt(n))
    grid = img[:side * side, 0].reshape(side, side, s, s).permute(0, 2, 1, 3).reshape(side * s, side * s)
    im = Image.fromarray(grid.numpy(), mode="L").resize((side * s * 2, side * s * 2), Image.NEAREST)
    im.save(path + ".tmp.png")
    os.replace(path + ".tmp.png", path)
    return {"file": os.path.basename(path), "sampler": "ddim", "eta": 0.0, "steps": steps, "samples": n,
            "seed": seed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=sorted(T.CONFIGS))
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--out", default=os.path.join(REPO, "models"))
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("QL_THREADS", "1")))
    name = a.model
    ck_path = a.ckpt or os.path.join(T.CACHE, "ckpt", name, "last.pt")
    ck = torch.load(ck_path)
    cfg = ck["config"]
    diffusion = cfg["task"] == "diffusion"
    model = T.build_model(cfg)
    model.load_state_dict(ck["ema"] if diffusion else ck["model"])
    model.eval()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()

    x_test, y_test = T.load_dataset(cfg, "test")
    args = sample_inputs(cfg, x_test, 8)
    files, checks = {}, {}
    for opset, fname in ((17, f"{name}.onnx"), (13, f"{name}-op13.onnx")):
        path = os.path.join(a.out, fname)
        m = export_onnx(model, sample_inputs(cfg, x_test, 2), cfg, opset, path)
        checks[f"opset{opset}_max_abs_diff"] = check_export(m, model, args, cfg)
        files[f"opset{opset}"] = {"file": fname, "bytes": os.path.getsize(path), "sha256": sha256(path),
                                  "nodes": len(m.graph.node)}
        print(f"{fname}: {files[f'opset{opset}']['bytes']} bytes, max |onnx - torch| "
              f"{checks[f'opset{opset}_max_abs_diff']:.2e} on 8 test inputs", flush=True)

    ins, outs = io_names(cfg)
    p = cfg["preprocess"]
    info = {
        "name": name, "task": cfg["task"], "dataset": cfg["dataset"], "architecture": cfg["arch"],
        "params": count_params(model),
        "gflops_per_image": round(count_flops(model, *[v[:1] for v in args]) / 1e9, 4),
        "files": files,
        "inputs": ins, "outputs": outs,
        "input": {"name": ins[0], "shape": ["batch", p["channels"], p["size"], p["size"]], "layout": "NCHW"},
        "preprocess": dict(p, padValue=0, note="pixels/255; zero padding (black) added in pixel space before "
                                               "mean/std normalization"),
        "labels": T.FMNIST_CLASSES if cfg["dataset"] == "fashion-mnist" else T.CIFAR_CLASSES,
        "scheduler": cfg.get("scheduler"),
        "export_check": dict(checks, inputs=8, evaluator="tools/onnx_torch_eval.py"),
        "training": {"recipe": cfg, "seed": ck.get("seed", 0), "epochs_done": ck["epoch"],
                     "train_minutes": round(ck["elapsed"] / 60, 1), "history": ck["history"],
                     "torch": torch.__version__, "threads": int(os.environ.get("QL_THREADS", "1"))},
    }
    if diffusion:
        acp = T.ddpm_alphas_cumprod(cfg["scheduler"])
        info["metrics"] = T.eval_diffusion(model, cfg, x_test, acp, n=1000)
        info["samples"] = ddim_sample_grid(model, cfg, os.path.join(a.out, f"{name}-samples.png"))
    else:
        ev = T.evaluate(model, cfg, x_test, y_test)
        info["metrics"] = {"top1": ev["top1"], "top5": ev["top5"], "test_images": len(x_test)}
        if cfg["arch"] in ("deit", "swin"):
            info["activation_stats"] = transformer_stats(model, cfg, x_test)
    out = os.path.join(a.out, f"{name}.metrics.json")
    with open(out + ".tmp", "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    os.replace(out + ".tmp", out)
    print(f"{name}: {json.dumps(info['metrics'])} -> {out} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
