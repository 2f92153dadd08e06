#!/usr/bin/python3
"""Reference sampling trajectories for the TypeScript sampler (src/diffusion/sampler.ts), computed in PyTorch.

    /usr/bin/python3 tools/ddim_reference.py [--out src/diffusion/testdata/ddim-reference.npz]

Rebuilds the tiny UNet of fixtures/tiny-unet-op17.onnx exactly as tools/make_fixtures.py does (same seeds, same
randomize()), checks it against the fixture's PyTorch reference output, then runs from a committed initial noise
(batch 2, 1x8x8, linear betas 1e-4..0.02, T = 1000):

  ddim_quad     DDIM, 10 steps, quad spacing, eta 0
  ddim_uniform  DDIM, 10 steps, uniform spacing, eta 0
  ddim_eta      DDIM, 10 steps, quad spacing, eta 0.5 (per-step noise committed)
  ddpm          DDPM ancestral (ddpm_steps), 10 steps, uniform spacing (per-step noise committed)

The updates are the official DDIM code's (functions/denoising.py generalized_steps and ddpm_steps), with
alphas_cumprod in float64 and x stored as float32 after each step, as the TypeScript sampler does. The NPZ holds
x_T, and per case <case>_t (time steps in sampling order), <case>_traj ([steps + 1, 2, 1, 8, 8]: x_T, then x
after each step; the last is x_0) and, for the stochastic cases, <case>_noise ([steps, 2, 1, 8, 8]).
Needs Debian's python3-torch and python3-numpy. Deterministic.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import SEED, UNET, randomize  # noqa: E402
from quantlens_models import DDIMUNet  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
T = 1000


def build_unet() -> DDIMUNet:
    torch.manual_seed(SEED + 2)
    gen = torch.Generator().manual_seed(SEED + 3)
    unet = DDIMUNet(**UNET)
    randomize(unet, gen)
    unet.eval()
    # Same weights as the fixture? Its reference dump holds the PyTorch output for fixed inputs.
    with open(os.path.join(REPO, "fixtures", "tiny-unet-op17.ref.json")) as f:
        ref = json.load(f)

    def dec(e, dtype):
        return torch.from_numpy(np.frombuffer(base64.b64decode(e["data"]), dtype=dtype).reshape(e["shape"]).copy())

    x = dec(ref["inputs"]["x"], "<f4")
    t = dec(ref["inputs"]["t"], "<i8")
    want = dec(ref["outputs"]["eps"], "<f4")
    with torch.no_grad():
        got = unet(x, t)
    diff = float((got - want).abs().max())
    if diff > 1e-6:
        raise SystemExit(f"rebuilt UNet differs from the fixture's reference output (max abs {diff:g})")
    return unet


def seq_for(steps: int, skip: str):
    if skip == "uniform":
        return list(range(0, T, T // steps))
    return [int(s) for s in list(np.linspace(0, np.sqrt(T * 0.8), steps) ** 2)]


def alphas_cumprod() -> torch.Tensor:
    betas = torch.from_numpy(np.linspace(1e-4, 0.02, T, dtype=np.float64))
    return torch.cumprod(1.0 - betas, dim=0)


def abar(acp: torch.Tensor, t: int) -> float:
    return 1.0 if t < 0 else float(acp[t])


def run(unet, x_T: torch.Tensor, steps: int, skip: str, kind: str, eta: float, gen: torch.Generator):
    acp = alphas_cumprod()
    seq = seq_for(steps, skip)
    seq_next = [-1] + seq[:-1]
    x = x_T.clone()
    traj, ts, noises = [x.clone()], [], []
    n = x.shape[0]
    for i, j in zip(reversed(seq), reversed(seq_next)):
        ts.append(i)
        with torch.no_grad():
            e = unet(x, torch.full((n,), i, dtype=torch.int64)).double()
        at, an = abar(acp, i), abar(acp, j)
        xd = x.double()
        if kind == "ddim":
            x0 = (xd - e * (1 - at) ** 0.5) / at ** 0.5
            c1 = eta * ((1 - at / an) * (1 - an) / (1 - at)) ** 0.5
            c2 = max(0.0, (1 - an) - c1 ** 2) ** 0.5
            z = torch.randn(x.shape, generator=gen) if eta > 0 else torch.zeros(x.shape)
            nxt = an ** 0.5 * x0 + c1 * z.double() + c2 * e
        else:
            beta = 1 - at / an
            x0 = ((1.0 / at) ** 0.5 * xd - (1.0 / at - 1) ** 0.5 * e).clamp(-1, 1)
            mean = ((an ** 0.5 * beta) * x0 + ((1 - beta) ** 0.5 * (1 - an)) * xd) / (1.0 - at)
            z = torch.randn(x.shape, generator=gen)
            std = 0.0 if i == 0 else beta ** 0.5
            nxt = mean + std * z.double()
        noises.append(z.float())
        x = nxt.float()
        traj.append(x.clone())
    return np.asarray(ts, dtype=np.int64), torch.stack(traj).numpy(), torch.stack(noises).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "src", "diffusion", "testdata", "ddim-reference.npz"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    unet = build_unet()
    gen = torch.Generator().manual_seed(20240607)
    x_T = torch.randn(2, UNET["in_ch"], UNET["img_size"], UNET["img_size"], generator=gen)
    arrays = {"x_T": x_T.numpy()}
    cases = (("ddim_quad", "quad", "ddim", 0.0), ("ddim_uniform", "uniform", "ddim", 0.0),
             ("ddim_eta", "quad", "ddim", 0.5), ("ddpm", "uniform", "ddpm", 0.0))
    for name, skip, kind, eta in cases:
        ts, traj, noise = run(unet, x_T, 10, skip, kind, eta, torch.Generator().manual_seed(7))
        arrays[f"{name}_t"] = ts
        arrays[f"{name}_traj"] = traj.astype(np.float32)
        if kind == "ddpm" or eta > 0:
            arrays[f"{name}_noise"] = noise.astype(np.float32)
        print(f"{name}: t = {ts.tolist()}, |x_0| max {np.abs(traj[-1]).max():.4f}")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    tmp = a.out + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, a.out)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes)")


if __name__ == "__main__":
    main()
