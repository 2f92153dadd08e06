#!/usr/bin/python3
"""Independent FID reference for src/eval/fid.ts: numpy statistics and scipy.linalg.sqrtm, as pytorch-fid does it.

    /usr/bin/python3 tools/fid_reference.py [--features src/eval/testdata/fid-features.npz]
                                            [--out src/eval/testdata/fid-reference.json] [--make-features]

Reads feature arrays (rows = samples) from the NPZ and writes, for each pair of sets in PAIRS, the FID computed
exactly as pytorch-fid's calculate_frechet_distance (mu = mean, sigma = np.cov(rowvar=False), sqrtm of the product
with the 1e-6 offset fallback, real part), plus per-set statistics summaries. --make-features (re)creates the NPZ:
seeded Gaussian features with structured covariances, including a strongly anisotropic one and a set with fewer
samples than dimensions (singular covariance). Both outputs are committed, so the tests need neither Python nor
scipy. Needs Debian's python3-numpy and python3-scipy. Deterministic.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
from scipy import linalg

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PAIRS = [("a", "b"), ("a", "a2"), ("c", "d"), ("c", "e"), ("b", "b")]


def make_features(path: str) -> None:
    rng = np.random.RandomState(20240611)

    def gaussian(n, mean, cov):
        l = np.linalg.cholesky(cov + 1e-12 * np.eye(len(mean)))
        return (mean + rng.randn(n, len(mean)) @ l.T).astype(np.float32)

    def random_cov(d, lo, hi):
        q, _ = np.linalg.qr(rng.randn(d, d))
        return (q * np.logspace(lo, hi, d)) @ q.T

    d1, d2 = 32, 64
    cov_a = random_cov(d1, -1, 1)
    cov_b = random_cov(d1, -1.5, 0.8)
    cov_c = random_cov(d2, -3, 2)  # condition number 1e5
    cov_d = random_cov(d2, -2.5, 2)
    arrays = {
        "a": gaussian(300, rng.randn(d1) * 0.5, cov_a),
        "b": gaussian(250, rng.randn(d1) * 0.5 + 1.0, cov_b),
        "c": gaussian(400, rng.randn(d2), cov_c),
        "d": gaussian(350, rng.randn(d2), cov_d),
        "e": gaussian(40, rng.randn(d2), cov_d),  # 40 samples in 64 dimensions: singular covariance
    }
    arrays["a2"] = gaussian(280, arrays["a"].astype(np.float64).mean(0), cov_a)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def stats(x: np.ndarray):
    x = x.astype(np.float64)
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6) -> float:
    """pytorch-fid's calculate_frechet_distance, verbatim in substance."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", default=os.path.join(REPO, "src", "eval", "testdata", "fid-features.npz"))
    ap.add_argument("--out", default=os.path.join(REPO, "src", "eval", "testdata", "fid-reference.json"))
    ap.add_argument("--make-features", action="store_true")
    a = ap.parse_args()
    if a.make_features or not os.path.exists(a.features):
        os.makedirs(os.path.dirname(a.features), exist_ok=True)
        make_features(a.features)
    feats = dict(np.load(a.features))
    sets = {}
    for name, x in sorted(feats.items()):
        mu, sigma = stats(x)
        sets[name] = {"n": int(x.shape[0]), "dim": int(x.shape[1]), "muSquaredNorm": float(mu.dot(mu)),
                      "sigmaTrace": float(np.trace(sigma)), "sigmaFrobenius": float(np.linalg.norm(sigma)),
                      "sigmaRank": int(np.linalg.matrix_rank(sigma))}
    pairs = []
    for p, q in PAIRS:
        fid = frechet_distance(*stats(feats[p]), *stats(feats[q]))
        pairs.append({"a": p, "b": q, "fid": fid})
        print(f"FID({p}, {q}) = {fid:.6f}")
    out = {"tool": "tools/fid_reference.py", "numpy": np.__version__, "scipy": __import__("scipy").__version__,
           "features": os.path.relpath(a.features, REPO), "sets": sets, "pairs": pairs}
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
