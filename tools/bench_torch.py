#!/usr/bin/python3
"""PyTorch eager side of the inference benchmark (bench/, npm run bench): the same module and weights as the ONNX
graph that quantlens runs in onnxruntime, timed in a server loop so that the benchmark can interleave ORT and
PyTorch measurements round by round (the machine is shared; interleaving keeps load drift out of the ratio).

    /usr/bin/python3 tools/bench_torch.py --serve --model NAME [--dir DIR] [--weights PATH] [--threads 2]
    /usr/bin/python3 tools/bench_torch.py --model NAME --batch 64 --iters 5      (one-shot, prints JSON)

The model: DIR/NAME.json (written by tools/make_scale_models.py: arch + constructor arguments) or --arch/--kwargs,
weights from --weights (a state dict, or a tools/train.py checkpoint: its 'model', or 'ema' for diffusion),
else DIR/NAME.pt, else the module's own random initialisation (timing depends on the architecture only).

Server protocol, one JSON object per line on stdin / stdout:
  {"cmd": "time", "batch": B, "iters": K}  ->  {"seconds": [s1, ..., sK], "cpu_seconds": [...]}
                                              (one forward pass of batch B each; cpu = process time, all threads)
  {"cmd": "gemm", "n": N, "iters": K}      ->  {"seconds": [...]}         (torch.matmul of two NxN float32)
  {"cmd": "threads", "n": N}               ->  {"threads": N}             (torch.set_num_threads)
  {"cmd": "quit"}
The first line the server writes is {"ready": true, "torch": ..., "threads": ..., "params": ..., "gflops": ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Dict, Tuple

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_scale_models import DEFAULT_OUT, build  # noqa: E402
from quantlens_models import count_flops, count_params  # noqa: E402


def load_spec(a: argparse.Namespace) -> Dict:
    if a.arch:
        return {"arch": a.arch, "kwargs": json.loads(a.kwargs or "{}")}
    path = os.path.join(a.dir, f"{a.model}.json")
    with open(path) as f:
        return json.load(f)


def load_model(a: argparse.Namespace) -> Tuple[nn.Module, Dict, str]:
    """The module in eval mode, its spec, and where its weights came from."""
    spec = load_spec(a)
    torch.manual_seed(0)
    model = build(spec)
    source = "random (module init)"
    path = a.weights or (os.path.join(a.dir, f"{a.model}.pt") if a.model else None)
    if path and os.path.exists(path):
        sd = torch.load(path, map_location="cpu")
        if isinstance(sd, dict) and ("model" in sd or "ema" in sd):
            sd = sd["ema"] if spec["arch"] == "ddim-unet" and "ema" in sd else sd["model"]
        model.load_state_dict(sd)
        source = path
    model.eval()
    return model, spec, source


def make_inputs(spec: Dict, batch: int, seed: int = 0) -> Tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    kw = spec["kwargs"]
    if spec["arch"] == "ddim-unet":
        s = kw.get("img_size", 32)
        return (torch.randn(batch, kw.get("in_ch", 1), s, s, generator=g),
                torch.randint(0, 1000, (batch,), generator=g))
    s = kw.get("img_size", 32)
    return (torch.randn(batch, kw.get("in_chans", 3), s, s, generator=g),)


class Timer:
    def __init__(self, model: nn.Module, spec: Dict):
        self.model = model
        self.spec = spec
        self.inputs: Dict[int, Tuple[torch.Tensor, ...]] = {}

    @torch.no_grad()
    def forward(self, batch: int, iters: int):
        if batch not in self.inputs:
            self.inputs[batch] = make_inputs(self.spec, batch)
        args = self.inputs[batch]
        wall, cpu = [], []
        for _ in range(iters):
            c0, t0 = time.process_time(), time.perf_counter()
            self.model(*args)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return wall, cpu


@torch.no_grad()
def gemm(n: int, iters: int):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    out = []
    for _ in range(iters):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        out.append(time.perf_counter() - t0)
    return out


def header(model: nn.Module, spec: Dict, source: str) -> Dict:
    one = make_inputs(spec, 1)
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "params": count_params(model),
            "gflops_per_image": count_flops(model, *one) / 1e9, "weights": source,
            "blas": "mkldnn" if torch.backends.mkldnn.is_available() else "none"}


def serve(model: nn.Module, spec: Dict, source: str) -> None:
    timer = Timer(model, spec)
    print(json.dumps({"ready": True, **header(model, spec, source)}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            if req["cmd"] == "quit":
                break
            if req["cmd"] == "time":
                wall, cpu = timer.forward(int(req["batch"]), int(req.get("iters", 1)))
                res = {"seconds": wall, "cpu_seconds": cpu}
            elif req["cmd"] == "threads":
                torch.set_num_threads(int(req["n"]))
                res = {"threads": torch.get_num_threads()}
            elif req["cmd"] == "gemm":
                res = {"seconds": gemm(int(req["n"]), int(req.get("iters", 1)))}
            else:
                res = {"error": f"unknown command {req['cmd']}"}
        except Exception as e:  # reported to the benchmark, which records it
            res = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(res), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="name of DIR/NAME.json (+ .pt)")
    ap.add_argument("--dir", default=DEFAULT_OUT)
    ap.add_argument("--arch", choices=["deit", "ddim-unet"], help="instead of --model: build from --kwargs")
    ap.add_argument("--kwargs", help="JSON constructor arguments for --arch")
    ap.add_argument("--weights")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5)
    a = ap.parse_args()
    if not a.model and not a.arch:
        ap.error("give --model or --arch")
    torch.set_num_threads(a.threads)
    model, spec, source = load_model(a)
    if a.serve:
        serve(model, spec, source)
        return
    timer = Timer(model, spec)
    timer.forward(a.batch, 1)
    wall, cpu = timer.forward(a.batch, a.iters)
    print(json.dumps({**header(model, spec, source), "batch": a.batch, "seconds": wall, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
