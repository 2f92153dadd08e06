#!/usr/bin/python3
"""Train the models quantlens ships (issue 3), reproducibly and resumably, on CPU.

    /usr/bin/python3 tools/train.py --model deit-fmnist [--epochs N] [--bench STEPS] [--restart]

Checkpoints: /root/.cache/quantlens/ckpt/<name>/last.pt (written to a temporary file, then renamed) at the end of
every epoch and every --ckpt-minutes; a finished run leaves DONE there. A run resumes from last.pt, mid-epoch
included, and continues bit for bit as if it had not stopped (same data order, augmentation and dropout).
Progress lines go to /root/.cache/quantlens/logs/<name>.log (and stdout).
Threads: QL_THREADS (default 1). Export with tools/export.py once DONE exists.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantlens_models import (DDIMUNet, FeatureCNN, SwinTransformer, VisionTransformer,  # noqa: E402
                              count_flops, count_params)

CACHE = os.environ.get("QL_CACHE", "/root/.cache/quantlens")
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
CIFAR_TARBALLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "cifar10")
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FMNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                  "Ankle boot"]

FMNIST_NORM = dict(mean=[0.2860], std=[0.3530])
CIFAR_NORM = dict(mean=[0.4914, 0.4822, 0.4465], std=[0.247, 0.243, 0.261])

# Every shipped model: architecture, data and recipe. Changing a recipe means a new run (--restart).
CONFIGS: Dict[str, Dict] = {
    "fmnist-features": dict(
        task="features", dataset="fashion-mnist", arch="cnn",
        model=dict(in_chans=1, num_classes=10, widths=[32, 64, 128], feature_dim=128, dropout=0.3),
        preprocess=dict(size=32, pad=2, channels=1, **FMNIST_NORM),
        epochs=5, batch=128, lr=2e-3, min_lr=1e-5, wd=0.05, warmup_epochs=0.25, label_smoothing=0.0,
        crop_pad=2, flip=True),
    "deit-fmnist": dict(
        task="classification", dataset="fashion-mnist", arch="deit",
        model=dict(img_size=32, patch_size=4, in_chans=1, num_classes=10, embed_dim=128, depth=6, num_heads=4,
                   drop_path_rate=0.05),
        preprocess=dict(size=32, pad=2, channels=1, **FMNIST_NORM),
        epochs=7, batch=128, lr=1e-3, min_lr=1e-5, wd=0.05, warmup_epochs=1, label_smoothing=0.1,
        crop_pad=2, flip=True),
    "ddim-fmnist": dict(
        task="diffusion", dataset="fashion-mnist", arch="ddim-unet",
        model=dict(img_size=32, in_ch=1, ch=32, ch_mult=[1, 2, 2], num_res_blocks=1, attn_resolutions=[16],
                   dropout=0.1, groups=32),
        # Pixels scaled to [-1, 1]; padding is black (-1), as the 28x28 images' own background.
        preprocess=dict(size=32, pad=2, channels=1, mean=[0.5], std=[0.5]),
        scheduler=dict(type="ddim", betaSchedule="linear", betaStart=1e-4, betaEnd=0.02, trainSteps=1000),
        epochs=8, batch=128, lr=5e-4, min_lr=1e-4, wd=0.0, warmup_steps=200, grad_clip=1.0, ema=0.999,
        crop_pad=0, flip=True, amp="bf16"),
    "deit-cifar10": dict(
        task="classification", dataset="cifar10", arch="deit",
        model=dict(img_size=32, patch_size=4, in_chans=3, num_classes=10, embed_dim=192, depth=6, num_heads=3,
                   drop_path_rate=0.1),
        preprocess=dict(size=32, pad=0, channels=3, **CIFAR_NORM),
        epochs=30, batch=128, lr=1e-3, min_lr=1e-5, wd=0.05, warmup_epochs=3, label_smoothing=0.1,
        crop_pad=4, flip=True, amp="bf16", eval_every=3),
    "swin-cifar10": dict(
        task="classification", dataset="cifar10", arch="swin",
        model=dict(img_size=32, patch_size=2, in_chans=3, num_classes=10, embed_dim=64, depths=[2, 2, 6],
                   num_heads=[2, 4, 8], window_size=4, drop_path_rate=0.1),
        preprocess=dict(size=32, pad=0, channels=3, **CIFAR_NORM),
        epochs=60, batch=128, lr=1e-3, min_lr=1e-5, wd=0.05, warmup_epochs=5, label_smoothing=0.1,
        crop_pad=4, flip=True, amp="bf16", eval_every=3),
}


# ---------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------


def _read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fmnist(split: str) -> Tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 1, 28, 28) and int64 labels."""
    pre = "train" if split == "train" else "t10k"
    x = _read_idx(os.path.join(FMNIST_DIR, f"{pre}-images-idx3-ubyte.gz"))[:, None]
    y = _read_idx(os.path.join(FMNIST_DIR, f"{pre}-labels-idx1-ubyte.gz")).astype(np.int64)
    return x, y


def load_cifar(split: str) -> Tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 3, 32, 32) and int64 labels, decoded once from the JPEG ImageFolder into a .npy cache."""
    root = os.path.join(CACHE, "cifar10")
    xp, yp = os.path.join(root, f"{split}_x.npy"), os.path.join(root, f"{split}_y.npy")
    if not (os.path.exists(xp) and os.path.exists(yp)):
        from PIL import Image
        folder = os.path.join(root, split)
        if not os.path.isdir(folder):
            import tarfile
            os.makedirs(root, exist_ok=True)
            with tarfile.open(os.path.join(CIFAR_TARBALLS, f"{split}.tar.gz")) as tf:
                tf.extractall(root)
        xs, ys = [], []
        for label, cls in enumerate(CIFAR_CLASSES):
            for fn in sorted(os.listdir(os.path.join(folder, cls))):
                with Image.open(os.path.join(folder, cls, fn)) as im:
                    xs.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
                ys.append(label)
        x = np.stack(xs).transpose(0, 3, 1, 2).copy()
        y = np.asarray(ys, dtype=np.int64)
        for arr, p in ((x, xp), (y, yp)):
            np.save(p + ".tmp.npy", arr)
            os.replace(p + ".tmp.npy", p)
    return np.load(xp), np.load(yp)


def load_dataset(cfg: Dict, split: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """uint8 images at the model's size (padding applied in pixel space, value 0) and labels."""
    x, y = load_fmnist(split) if cfg["dataset"] == "fashion-mnist" else load_cifar(split)
    p = cfg["preprocess"]["pad"]
    if p:
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    return torch.from_numpy(x), torch.from_numpy(y)


def normalize(x: torch.Tensor, cfg: Dict) -> torch.Tensor:
    p = cfg["preprocess"]
    mean = torch.tensor(p["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(p["std"]).view(1, -1, 1, 1)
    return (x.float() / 255.0 - mean) / std


def augment(x: torch.Tensor, cfg: Dict, gen: torch.Generator) -> torch.Tensor:
    """Random crop with zero padding (pixel space) and horizontal flip, on a uint8 batch."""
    n, _, h, w = x.shape
    p = cfg.get("crop_pad", 0)
    if p:
        xp = F.pad(x, (p, p, p, p))
        oy = torch.randint(0, 2 * p + 1, (n,), generator=gen)
        ox = torch.randint(0, 2 * p + 1, (n,), generator=gen)
        x = torch.stack([xp[i, :, oy[i]:oy[i] + h, ox[i]:ox[i] + w] for i in range(n)])
    if cfg.get("flip"):
        m = torch.rand(n, generator=gen) < 0.5
        x = torch.where(m.view(-1, 1, 1, 1), x.flip(3), x)
    return x


# ---------------------------------------------------------------------------------------------------------------
# Models and optimisation
# ---------------------------------------------------------------------------------------------------------------


def build_model(cfg: Dict) -> nn.Module:
    m = cfg["model"]
    if cfg["arch"] == "deit":
        return VisionTransformer(**m)
    if cfg["arch"] == "swin":
        return SwinTransformer(**m)
    if cfg["arch"] == "ddim-unet":
        return DDIMUNet(**m)
    if cfg["arch"] == "cnn":
        return FeatureCNN(**m)
    raise ValueError(cfg["arch"])


def param_groups(model: nn.Module, wd: float) -> List[Dict]:
    """DeiT recipe: no weight decay on norms, biases, position/cls embeddings and relative position tables."""
    skip = set(getattr(model, "no_weight_decay", lambda: [])())
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        leaf = name.split(".")[-1]
        if p.ndim <= 1 or name in skip or leaf in skip:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step: int, total: int, cfg: Dict, steps_per_epoch: int) -> float:
    warm = int(cfg.get("warmup_steps", cfg.get("warmup_epochs", 0) * steps_per_epoch))
    if step < warm:
        return cfg["lr"] * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return cfg["min_lr"] + (cfg["lr"] - cfg["min_lr"]) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))


def ddpm_alphas_cumprod(sched: Dict) -> torch.Tensor:
    betas = torch.linspace(sched["betaStart"], sched["betaEnd"], sched["trainSteps"], dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0).float()


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints and logging
# ---------------------------------------------------------------------------------------------------------------


class Log:
    def __init__(self, name: str):
        os.makedirs(os.path.join(CACHE, "logs"), exist_ok=True)
        self.path = os.path.join(CACHE, "logs", f"{name}.log")

    def __call__(self, msg: str) -> None:
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + msg
        print(line, flush=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")


def ckpt_dir(name: str) -> str:
    d = os.path.join(CACHE, "ckpt", name)
    os.makedirs(d, exist_ok=True)
    return d


def save_atomic(obj, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


@torch.no_grad()
def evaluate(model: nn.Module, cfg: Dict, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> Dict:
    model.eval()
    c1 = c5 = 0
    loss = 0.0
    for i in range(0, len(x), batch):
        out = model(normalize(x[i:i + batch], cfg))
        logits = out[1] if isinstance(out, tuple) else out
        yy = y[i:i + batch]
        loss += float(F.cross_entropy(logits, yy, reduction="sum"))
        top = logits.topk(5, dim=1).indices
        c1 += int((top[:, 0] == yy).sum())
        c5 += int((top == yy[:, None]).any(dim=1).sum())
    n = len(x)
    return {"top1": c1 / n, "top5": c5 / n, "loss": loss / n}


@torch.no_grad()
def eval_diffusion(model: nn.Module, cfg: Dict, x: torch.Tensor, acp: torch.Tensor, n: int = 1000) -> Dict:
    """Test-set noise-prediction MSE at fixed (seeded) time steps and noise."""
    model.eval()
    n = min(n, len(x))
    g = torch.Generator().manual_seed(1234)
    x0 = normalize(x[:n], cfg)
    t = torch.randint(0, len(acp), (n,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    a = acp[t].view(-1, 1, 1, 1)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    se = 0.0
    for i in range(0, n, 250):
        se += float(((model(xt[i:i + 250], t[i:i + 250]) - eps[i:i + 250]) ** 2).sum())
    return {"eps_mse": se / eps.numel()}


# ---------------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------------


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def train(name: str, epochs: Optional[int], bench: int, restart: bool, ckpt_minutes: float, seed: int,
          stop_after: int = 0) -> None:
    cfg = json.loads(json.dumps(CONFIGS[name]))
    if epochs is not None:
        cfg["epochs"] = epochs
    threads = int(os.environ.get("QL_THREADS", "1"))
    torch.set_num_threads(threads)
    log = Log(name if not bench else name + "-bench")
    d = ckpt_dir(name)
    last = os.path.join(d, "last.pt")
    done = os.path.join(d, "DONE")
    if restart and not bench:
        for f in (last, done):
            if os.path.exists(f):
                os.remove(f)
    if os.path.exists(done) and not bench:
        log(f"{name}: already finished ({done}); nothing to do")
        return

    use_bf16 = cfg.get("amp") == "bf16" and cpu_has_native_bf16()
    if cfg.get("amp") == "bf16" and not use_bf16:
        log(f"{name}: the recipe asks for bf16 autocast but this CPU lacks avx512_bf16/amx_bf16; training in fp32")

    torch.manual_seed(seed)
    model = build_model(cfg)
    diffusion = cfg["task"] == "diffusion"
    ema = None
    if diffusion:
        ema = build_model(cfg)
        ema.load_state_dict(model.state_dict())
        for p in ema.parameters():
            p.requires_grad_(False)
    opt = torch.optim.AdamW(param_groups(model, cfg["wd"]), lr=cfg["lr"], betas=(0.9, 0.999))
    xtr, ytr = load_dataset(cfg, "train")
    xte, yte = load_dataset(cfg, "test")
    if os.environ.get("QL_SUBSET"):  # "TRAIN,TEST": tiny runs for testing this script only
        ntr, nte = (int(v) for v in os.environ["QL_SUBSET"].split(","))
        xtr, ytr, xte, yte = xtr[:ntr], ytr[:ntr], xte[:nte], yte[:nte]
    spe = len(xtr) // cfg["batch"]  # drop the last partial batch
    acp = ddpm_alphas_cumprod(cfg["scheduler"]) if diffusion else None
    crit = nn.CrossEntropyLoss(label_smoothing=cfg.get("label_smoothing", 0.0))

    epoch, step_in_epoch, gen_state = 0, 0, None
    history: List[Dict] = []
    elapsed = 0.0
    if os.path.exists(last) and not bench:
        ck = torch.load(last)
        if ck["config"]["model"] != cfg["model"] or ck["config"]["arch"] != cfg["arch"]:
            raise SystemExit(f"{last} was made with another model config; use --restart")
        if ck["config"]["epochs"] != cfg["epochs"]:
            log(f"{name}: epoch budget changed {ck['config']['epochs']} -> {cfg['epochs']}; the cosine schedule "
                f"continues from the current step with the new total")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if ema is not None:
            ema.load_state_dict(ck["ema"])
        epoch, step_in_epoch, gen_state = ck["epoch"], ck["step_in_epoch"], ck["gen"]
        torch.set_rng_state(ck["torch_rng"])
        history = ck["history"]
        elapsed = ck["elapsed"]
        log(f"{name}: resumed at epoch {epoch} step {step_in_epoch}/{spe} ({elapsed / 60:.1f} min so far)")
    else:
        x1 = normalize(xtr[:1], cfg)
        flops = count_flops(model, *((x1, torch.zeros(1, dtype=torch.int64)) if diffusion else (x1,)))
        log(f"{name}: start; params {count_params(model)}, {flops / 1e9:.3f} GFLOP/image, {spe} steps/epoch, "
            f"{cfg['epochs']} epochs, threads {threads}, seed {seed}, {'bf16 autocast' if use_bf16 else 'fp32'}")

    def checkpoint(ep: int, st: int, gen: Optional[torch.Generator]) -> None:
        save_atomic({"config": cfg, "model": model.state_dict(), "opt": opt.state_dict(),
                     "ema": ema.state_dict() if ema is not None else None, "epoch": ep, "step_in_epoch": st,
                     "gen": gen.get_state() if gen is not None else None, "torch_rng": torch.get_rng_state(), "history": history,
                     "elapsed": elapsed, "seed": seed}, last)

    total = cfg["epochs"] * spe
    last_save = time.time()
    stop_at_epoch_end = False
    while epoch < cfg["epochs"]:
        # The epoch's order and augmentation come from a generator seeded by (seed, epoch) so that a resumed run
        # sees the same batches; mid-epoch its saved state is restored.
        gen = torch.Generator().manual_seed(seed * 1000 + epoch)
        perm = torch.randperm(len(xtr), generator=gen)
        if gen_state is not None:
            gen.set_state(gen_state)
            gen_state = None
        model.train()
        t0 = time.time()
        run_loss, run_n = 0.0, 0
        for s in range(step_in_epoch, spe):
            idx = perm[s * cfg["batch"]:(s + 1) * cfg["batch"]]
            xb = normalize(augment(xtr[idx], cfg, gen), cfg)
            step = epoch * spe + s
            lr = lr_at(step, total, cfg, spe)
            for g in opt.param_groups:
                g["lr"] = lr
            # bf16 autocast (where the recipe asks for it and the CPU has native bf16): matmuls and convolutions
            # in bf16 with fp32 master weights, about 2x faster per step here; losses are taken in fp32.
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                if diffusion:
                    t = torch.randint(0, len(acp), (len(xb),), generator=gen)
                    noise = torch.randn(xb.shape, generator=gen)
                    a = acp[t].view(-1, 1, 1, 1)
                    out = model(a.sqrt() * xb + (1 - a).sqrt() * noise, t)
                    loss = F.mse_loss(out.float(), noise)
                else:
                    out = model(xb)
                    logits = out[1] if isinstance(out, tuple) else out
                    loss = crit(logits.float(), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.get("grad_clip"):
                nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for pe, pm in zip(ema.parameters(), model.parameters()):
                        pe.mul_(cfg["ema"]).add_(pm.detach(), alpha=1 - cfg["ema"])
            run_loss += float(loss)
            run_n += 1
            now = time.time()
            if bench and s - step_in_epoch + 1 >= bench:
                dt = (now - t0) / (s - step_in_epoch + 1)
                log(f"{name}: bench {bench} steps: {dt:.3f} s/step -> {dt * spe / 60:.1f} min/epoch of {spe} "
                    f"steps (threads {threads})")
                return
            if stop_after and step + 1 == stop_after:  # simulated kill, for testing resumption
                if s + 1 < spe:
                    elapsed += now - t0
                    checkpoint(epoch, s + 1, gen)
                    log(f"{name}: stopped after step {stop_after} (--stop-after)")
                    return
                stop_at_epoch_end = True
            if (s + 1) % 50 == 0:
                sps = (now - t0) / (s + 1 - step_in_epoch)
                log(f"{name}: epoch {epoch + 1}/{cfg['epochs']} step {s + 1}/{spe} loss {run_loss / run_n:.4f} "
                    f"lr {lr:.2e} {sps:.2f} s/step, epoch ETA {(spe - s - 1) * sps / 60:.1f} min")
                run_loss, run_n = 0.0, 0
            if now - last_save > ckpt_minutes * 60 and s + 1 < spe:
                elapsed += now - t0
                t0 = now
                step_in_epoch_saved = s + 1
                checkpoint(epoch, step_in_epoch_saved, gen)
                # elapsed is now accounted up to 'now'; keep the per-step rate meaningful
                step_in_epoch = step_in_epoch_saved
                last_save = now
        elapsed += time.time() - t0
        step_in_epoch = 0
        epoch += 1
        # The full test set costs about 2 min per CIFAR-10 evaluation on a loaded core; long runs evaluate every
        # eval_every epochs (and always after the last one).
        if epoch % cfg.get("eval_every", 1) == 0 or epoch == cfg["epochs"]:
            ev_model = ema if ema is not None else model
            t1 = time.time()
            ev = eval_diffusion(ev_model, cfg, xte, acp) if diffusion else evaluate(ev_model, cfg, xte, yte)
            ev.update(epoch=epoch, elapsed_min=round(elapsed / 60, 1))
            history.append(ev)
            log(f"{name}: epoch {epoch}/{cfg['epochs']} done, {elapsed / 60:.1f} min total; test "
                + " ".join(f"{k} {v:.4f}" for k, v in ev.items() if isinstance(v, float))
                + f" (eval {time.time() - t1:.0f} s)")
        else:
            log(f"{name}: epoch {epoch}/{cfg['epochs']} done, {elapsed / 60:.1f} min total")
        checkpoint(epoch, 0, None)
        last_save = time.time()
        if stop_at_epoch_end:
            log(f"{name}: stopped after step {stop_after} (--stop-after)")
            return
    with open(done + ".tmp", "w") as f:
        json.dump({"epochs": cfg["epochs"], "elapsed_min": round(elapsed / 60, 1), "history": history}, f)
    os.replace(done + ".tmp", done)
    log(f"{name}: finished, {elapsed / 60:.1f} min")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=sorted(CONFIGS))
    ap.add_argument("--epochs", type=int, default=None, help="override the config's epoch budget")
    ap.add_argument("--bench", type=int, default=0, help="time this many steps and exit (no checkpoint)")
    ap.add_argument("--restart", action="store_true", help="discard the checkpoint and start over")
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stop-after", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    train(a.model, a.epochs, a.bench, a.restart, a.ckpt_minutes, a.seed, a.stop_after)


if __name__ == "__main__":
    main()
