#!/usr/bin/python3
"""PyTorch reference calibration for the calibration benchmark (bench/): a straightforward implementation of
what quantlens does, written the way the official code is, to put quantlens's times side by side with.

    /usr/bin/python3 tools/calib_torch.py --method repq-vit|minmax --model NAME [--dir DIR] [--weights PATH]
        [--data calib.npy | --random N] [--w-bits 4] [--a-bits 4] [--repeats 1] [--threads 2]

repq-vit follows ../shared/specs/repq-vit.md §1-§5 and the official code (zkkli/RepQ-ViT quantizer.py):
  - a quantizer on the input of every nn.Linear and nn.Conv2d (forward pre-hooks) and on both operands of every
    attention MatMul module; a weight quantizer on every Linear/Conv weight (per output channel);
  - every quantizer calibrates lazily on the first tensor it sees, in execution order, with upstream quantization
    already on (sequential calibration); one forward pass of the whole calibration batch;
  - UniformQuantizer: 3 percentile candidates [0.999, 0.9999, 0.99999], each torch.quantile for the upper and the
    lower end (numpy fallback above 2^24 elements), MSE score; per channel it is a Python loop over the channels
    (weight rows; the last dim of post-LayerNorm activations, i.e. inputs of qkv/fc1);
  - LogSqrt2Quantizer on the post-Softmax operand of matmul2 (3 candidates of the upper quantile);
  - the patch-embedding input at 8 bits;
  - then the LayerNorm -> qkv/fc1 scale reparameterization (§3.2, z~ unrounded) and a second forward pass that
    re-calibrates only the qkv/fc1 weight quantizers (§3.3).
minmax: forward hooks on the same tensors record running min/max over the calibration batches (per tensor for
activations), weights per output channel with amin/amax; scales and zero-points as min-max affine quantizers.

Prints one JSON object: per repeat the seconds of each phase, the total, and the process CPU time of the run (all
threads; steadier than wall time on a busy machine). Model construction and data loading are excluded, as in the
quantlens benchmark, which times the method call on a model and data already in memory.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import load_model, make_inputs  # noqa: E402
from make_scale_models import DEFAULT_OUT  # noqa: E402
from quantlens_models import MatMul  # noqa: E402

PERCENTILES = [0.999, 0.9999, 0.99999]


def lp_loss(pred: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    return (pred - tgt).abs().pow(2).mean()


def quantile(x: torch.Tensor, p: float) -> torch.Tensor:
    try:
        return torch.quantile(x.reshape(-1), p)
    except RuntimeError:  # "input tensor is too large" above 2^24 elements: the official code's numpy fallback
        return torch.tensor(np.percentile(x.reshape(-1).cpu().numpy(), p * 100), dtype=torch.float32)


class UniformQuantizer:
    """Asymmetric uniform fake quantizer with the official lazy percentile/MSE initialisation."""

    def __init__(self, n_bits: int, channel_wise: bool = False):
        self.n_bits = n_bits
        self.n_levels = 2 ** n_bits
        self.channel_wise = channel_wise
        self.inited = False
        self.delta: Optional[torch.Tensor] = None
        self.zero_point: Optional[torch.Tensor] = None
        self.loops = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.inited:
            self.delta, self.zero_point = self.init_quantization_scale(x, self.channel_wise)
            self.inited = True
        x_int = torch.round(x / self.delta) + self.zero_point
        x_quant = torch.clamp(x_int, 0, self.n_levels - 1)
        return (x_quant - self.zero_point) * self.delta

    def quantize(self, x: torch.Tensor, x_max: torch.Tensor, x_min: torch.Tensor) -> torch.Tensor:
        delta = (x_max - x_min) / (2 ** self.n_bits - 1)
        zero_point = (-x_min / delta).round()
        x_int = torch.round(x / delta)
        x_quant = torch.clamp(x_int + zero_point, 0, self.n_levels - 1)
        return (x_quant - zero_point) * delta

    def init_quantization_scale(self, x: torch.Tensor, channel_wise: bool = False):
        x_clone = x.clone().detach()
        if channel_wise:
            if x.dim() == 3:
                n_channels = x_clone.shape[-1]
            else:
                n_channels = x_clone.shape[0]
            delta = torch.zeros(n_channels)
            zero_point = torch.zeros(n_channels)
            for c in range(n_channels):
                sl = x_clone[:, :, c] if x.dim() == 3 else x_clone[c]
                delta[c], zero_point[c] = self.init_quantization_scale(sl, channel_wise=False)
            if x.dim() == 4:
                return delta.view(-1, 1, 1, 1), zero_point.view(-1, 1, 1, 1)
            if x.dim() == 2:
                return delta.view(-1, 1), zero_point.view(-1, 1)
            return delta.view(1, 1, -1), zero_point.view(1, 1, -1)
        self.loops += 1
        best_score = math.inf
        delta = zero_point = None
        for pct in PERCENTILES:
            new_max = quantile(x_clone, pct)
            new_min = quantile(x_clone, 1.0 - pct)
            x_q = self.quantize(x_clone, new_max, new_min)
            score = lp_loss(x_clone, x_q)
            if score < best_score:
                best_score = score
                delta = (new_max - new_min) / (2 ** self.n_bits - 1)
                zero_point = (-new_min / delta).round()
        return delta, zero_point


class LogSqrt2Quantizer:
    def __init__(self, n_bits: int):
        self.n_bits = n_bits
        self.n_levels = 2 ** n_bits
        self.inited = False
        self.delta: Optional[torch.Tensor] = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.inited:
            self.delta = self.init_quantization_scale(x)
            self.inited = True
        return self.quantize(x, self.delta)

    def init_quantization_scale(self, x: torch.Tensor) -> torch.Tensor:
        x_clone = x.clone().detach()
        delta = x_clone.max()
        best_score = math.inf
        for pct in PERCENTILES:
            new_delta = quantile(x_clone, pct)
            score = lp_loss(x_clone, self.quantize(x_clone, new_delta))
            if score < best_score:
                best_score = score
                delta = new_delta
        return delta

    def quantize(self, x: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        x_int = torch.round(-1 * (x / delta).log2() * 2)
        mask = x_int >= self.n_levels
        x_quant = torch.clamp(x_int, 0, self.n_levels - 1)
        odd_mask = (x_quant % 2) * (math.sqrt(2) - 1) + 1
        x_float_q = 2 ** (-1 * torch.ceil(x_quant / 2)) * odd_mask * delta
        x_float_q[mask] = 0
        return x_float_q


class RepQViT:
    """Quantizers attached with forward pre-hooks; weights fake-quantized from a kept FP copy on every call."""

    def __init__(self, model: nn.Module, w_bits: int, a_bits: int):
        self.model = model
        self.handles = []
        self.quantizers: Dict[str, object] = {}
        first_conv = True
        for name, m in model.named_modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                post_ln = any(k in name for k in ("qkv", "fc1", "reduction"))
                bits = 8 if isinstance(m, nn.Conv2d) and first_conv else a_bits
                if isinstance(m, nn.Conv2d):
                    first_conv = False
                m.input_q = UniformQuantizer(bits, channel_wise=post_ln)
                m.weight_q = UniformQuantizer(w_bits, channel_wise=True)
                m.w_fp = m.weight.detach().clone()
                self.quantizers[name + ".input"] = m.input_q
                self.quantizers[name + ".weight"] = m.weight_q
                self.handles.append(m.register_forward_pre_hook(self._layer_hook))
            elif isinstance(m, MatMul):
                m.a_q = LogSqrt2Quantizer(a_bits) if name.endswith("matmul2") else UniformQuantizer(a_bits)
                m.b_q = UniformQuantizer(a_bits)
                self.quantizers[name + ".A"] = m.a_q
                self.quantizers[name + ".B"] = m.b_q
                self.handles.append(m.register_forward_pre_hook(self._matmul_hook))

    @staticmethod
    def _layer_hook(m: nn.Module, inp):
        m.weight.data = m.weight_q(m.w_fp)
        return (m.input_q(inp[0]),) + tuple(inp[1:])

    @staticmethod
    def _matmul_hook(m: nn.Module, inp):
        return (m.a_q(inp[0]), m.b_q(inp[1]))

    def reparameterize(self) -> int:
        """§3.2 for every norm1 -> attn.qkv and norm2 -> mlp.fc1 pair of model.blocks; returns the pair count."""
        pairs = 0
        for blk in self.model.blocks:
            for norm, nxt in ((blk.norm1, blk.attn.qkv), (blk.norm2, blk.mlp.fc1)):
                q = nxt.input_q
                act_delta = q.delta.reshape(-1)
                act_zp = q.zero_point.reshape(-1)
                act_min = -act_zp * act_delta
                target_delta = torch.mean(act_delta)
                target_zp = torch.mean(act_zp)
                target_min = -target_zp * target_delta
                r = act_delta / target_delta
                b = act_min / r - target_min
                norm.weight.data = norm.weight.data / r
                norm.bias.data = norm.bias.data / r - b
                nxt.w_fp = nxt.w_fp * r.view(1, -1)
                nxt.weight.data = nxt.w_fp.clone()
                nxt.bias.data = nxt.bias.data + torch.mm(nxt.w_fp, b.reshape(-1, 1)).reshape(-1)
                q.channel_wise = False
                q.delta = target_delta
                q.zero_point = target_zp
                nxt.weight_q.inited = False
                pairs += 1
        return pairs

    def loops(self) -> int:
        return sum(getattr(q, "loops", 0) for q in self.quantizers.values())

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


@torch.no_grad()
def run_repq(model: nn.Module, data: torch.Tensor, w_bits: int, a_bits: int) -> Dict:
    t0 = time.perf_counter()
    q = RepQViT(model, w_bits, a_bits)
    model(data)  # pass 1: lazy sequential calibration
    t1 = time.perf_counter()
    pairs = q.reparameterize()
    t2 = time.perf_counter()
    model(data)  # pass 2: qkv/fc1 weight quantizers re-calibrate on W'
    t3 = time.perf_counter()
    q.remove()
    return {"calibrate_s": t1 - t0, "reparam_s": t2 - t1, "recalibrate_s": t3 - t2, "total_s": t3 - t0,
            "quantizers": len(q.quantizers), "reparam_pairs": pairs, "percentile_searches": q.loops()}


@torch.no_grad()
def run_minmax(model: nn.Module, batches: List[tuple], w_bits: int, a_bits: int) -> Dict:
    t0 = time.perf_counter()
    ranges: Dict[str, List[float]] = {}
    handles = []

    def record(key: str, x: torch.Tensor) -> None:
        lo, hi = float(x.min()), float(x.max())
        r = ranges.get(key)
        ranges[key] = [lo, hi] if r is None else [min(r[0], lo), max(r[1], hi)]

    for name, m in model.named_modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            handles.append(m.register_forward_pre_hook(lambda m, inp, name=name: record(name, inp[0])))
        elif isinstance(m, MatMul):
            def mm(m, inp, name=name):
                record(name + ".A", inp[0])
                record(name + ".B", inp[1])
            handles.append(m.register_forward_pre_hook(mm))
    for args in batches:
        model(*args)
    for h in handles:
        h.remove()
    t1 = time.perf_counter()
    params = {}
    levels = 2 ** a_bits - 1
    for key, (lo, hi) in ranges.items():
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        scale = max(hi - lo, 1e-8) / levels
        params[key] = (scale, round(-lo / scale))
    wl = 2 ** w_bits - 1
    for name, m in model.named_modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            w = m.weight.detach().reshape(m.weight.shape[0], -1)
            lo = torch.clamp(w.amin(dim=1), max=0.0)
            hi = torch.clamp(w.amax(dim=1), min=0.0)
            scale = torch.clamp(hi - lo, min=1e-8) / wl
            params[name + ".weight"] = (scale, torch.round(-lo / scale))
    t2 = time.perf_counter()
    return {"calibrate_s": t1 - t0, "weights_s": t2 - t1, "total_s": t2 - t0, "quantizers": len(params)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", required=True, choices=["repq-vit", "minmax"])
    ap.add_argument("--model", help="name of DIR/NAME.json (+ .pt), see tools/make_scale_models.py")
    ap.add_argument("--dir", default=DEFAULT_OUT)
    ap.add_argument("--arch", choices=["deit", "ddim-unet"])
    ap.add_argument("--kwargs")
    ap.add_argument("--weights")
    ap.add_argument("--data", help=".npy of the calibration inputs (float32, model input layout)")
    ap.add_argument("--random", type=int, default=32, help="without --data: this many random inputs")
    ap.add_argument("--w-bits", type=int, default=4)
    ap.add_argument("--a-bits", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if not a.model and not a.arch:
        ap.error("give --model or --arch")
    torch.set_num_threads(a.threads)
    runs = []
    for _ in range(a.repeats):
        model, spec, source = load_model(a)  # fresh weights: RepQ-ViT rewrites LayerNorms and weights in place
        if spec["arch"] != "deit" and a.method == "repq-vit":
            ap.error("repq-vit is for the ViTs")
        if a.data:
            args = (torch.from_numpy(np.load(a.data)).float(),)
            if spec["arch"] == "ddim-unet":
                args = args + (torch.randint(0, 1000, (args[0].shape[0],), generator=torch.Generator()),)
        else:
            args = make_inputs(spec, a.random)
        c0 = time.process_time()
        if a.method == "repq-vit":
            run = run_repq(model, args[0], a.w_bits, a.a_bits)
        else:
            run = run_minmax(model, [args], a.w_bits, a.a_bits)
        run["cpu_s"] = time.process_time() - c0
        runs.append(run)
    print(json.dumps({"method": a.method, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "weights": source, "items": int(args[0].shape[0]), "wBits": a.w_bits, "aBits": a.a_bits,
                      "runs": runs}))


if __name__ == "__main__":
    main()
