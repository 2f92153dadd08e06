"""Stress variants of every shipped classification ViT (issue #3, "Models that behave like real ones").

For each base entry of models/manifest.json with task classification and architecture deit or swin, writes
  models/<name>-stress.onnx        quantlens stress <name> --seed S             (from the opset-17 model)
  models/<name>-op13-stress.onnx   quantlens stress <name>-op13 --seed S        (from the opset-13 model)
  models/<name>-stress.json        what the stress command printed (factors per LayerNorm, output gap) and the
                                   per-LayerNorm channel range ratio of the natural and the stress model, measured
                                   by `quantlens analyze` on test images (read by tools/make_manifest.py)
The stress variant is the same network with a function-preserving per-channel rescaling of every post-LayerNorm
pair (src/models/stress.ts); the CLI checks that its outputs are unchanged before it writes it.

Run (after tools/make_manifest.py has listed the base models; run make_manifest.py again afterwards to add the
stress entries and the card sections):
  /usr/bin/python3 tools/make_stress.py [--model NAME ...] [--seed 0] [--force]
A model whose stress files are up to date (same base sha256, same seed, files unchanged) is skipped. Uses the built
CLI (dist/cli/bin.js; `npm run -s build` first if it is missing). The JSON holds no timings or absolute paths, so
a rerun writes the same bytes.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from make_manifest import sha256  # the manifest's own file hash, so both scripts agree by construction

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
MODELS = os.path.join(ROOT, "models")
CLI = os.path.join(ROOT, "dist", "cli", "bin.js")
ARCHITECTURES = ("deit", "swin")
MAX_BYTES = 25 * 1000 * 1000  # issue #3: each committed .onnx under 25 MB
# Channel ranges: the same number of test images as tools/export.py's PyTorch statistics.
MEASURE_IMAGES = 256


def write_atomic(path, text):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def cli(args):
    r = subprocess.run(["node", CLI, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"quantlens {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


def stress(source, out_file, seed):
    """One variant: the CLI refuses to write it unless its outputs match the source's within 1e-5 (relative).
    One ORT thread, so the measured gap is the same on every run."""
    out = os.path.join("models", out_file)
    j = cli(["stress", source, "--out", out, "--seed", str(seed), "--threads", "1", "--json"])
    size = os.path.getsize(os.path.join(ROOT, out))
    if size >= MAX_BYTES:
        raise RuntimeError(f"{out} is {size} bytes, over the 25 MB limit for committed models")
    return j, {"file": out_file, "bytes": size, "outputGap": j["outputGap"], "norms": j["norms"]}


def measure(model, dataset, seed):
    """Per LayerNorm: max channel range / median channel range of its output (and |gamma| max/median) over
    MEASURE_IMAGES seeded test images, by `quantlens analyze` (statistics only)."""
    tmp = tempfile.mkdtemp(prefix="ql-stress-")
    try:
        cli(["analyze", model, "--data", dataset, "--split", "test", "--calib", str(MEASURE_IMAGES),
             "--calib-batch", "64", "--seed", str(seed), "--no-sensitivity", "--limit", "0", "--out", tmp, "--json"])
        with open(os.path.join(tmp, "analysis.json")) as f:
            a = json.load(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {ln["node"]: ln for ln in a["layerNorms"]}


def same_factors(a, b):
    key = lambda r: (r["channels"], tuple(r["outliers"]), r["maxFactor"], r["medianFactor"])
    return [key(r) for r in a] == [key(r) for r in b]


def up_to_date(path, base, op13, seed):
    if not os.path.exists(path):
        return False
    with open(path) as f:
        old = json.load(f)
    if old.get("seed") != seed:
        return False
    want = {e["name"]: sha256(os.path.join(MODELS, e["file"])) for e in (base, op13)}
    for v in old.get("variants", []):
        if want.pop(v.get("source"), None) != v.get("sourceSha256"):
            return False
        f = os.path.join(MODELS, v["file"])
        if not os.path.exists(f) or sha256(f) != v.get("sha256"):
            return False
    return not want


def make(base, op13, seed, force):
    name = base["name"]
    json_path = os.path.join(MODELS, f"{name}-stress.json")
    if not force and up_to_date(json_path, base, op13, seed):
        print(f"{name}: stress variants up to date ({os.path.relpath(json_path, ROOT)})")
        return
    variants = []
    first = None
    for entry, out_file in ((base, f"{name}-stress.onnx"), (op13, f"{name}-op13-stress.onnx")):
        j, v = stress(entry["name"], out_file, seed)
        first = first or j
        variants.append({"name": out_file[: -len(".onnx")], "source": entry["name"],
                         "sourceSha256": sha256(os.path.join(MODELS, entry["file"])),
                         "sha256": sha256(os.path.join(MODELS, out_file)), **v})
    # Same seed, same pair order: the opset-13 graph must get the very factors of the opset-17 one.
    if not same_factors(variants[0]["norms"], variants[1]["norms"]):
        raise RuntimeError(f"{name}: the opset-17 and opset-13 stress factors differ")
    natural = measure(name, base["dataset"], seed)
    stressed = measure(os.path.join("models", variants[0]["file"]), base["dataset"], seed)
    rescaled = {r["norm"] for r in variants[0]["norms"]}
    layer_norms = []
    for node, ln in natural.items():
        s = stressed[node]
        layer_norms.append({
            "node": node, "channels": ln["channels"], "rescaled": node in rescaled,
            "naturalRangeRatio": round(ln["variation"], 3), "stressRangeRatio": round(s["variation"], 3),
            "naturalGammaRatio": None if ln["gammaRatio"] is None else round(ln["gammaRatio"], 3),
            "stressGammaRatio": None if s["gammaRatio"] is None else round(s["gammaRatio"], 3),
        })
    doc = {
        "schemaVersion": 1, "quantlens": first["quantlens"], "onnxruntime": first["onnxruntime"],
        "base": name, "seed": seed,
        "command": f"quantlens stress <source> --out models/<file> --seed {seed} --threads 1 --json",
        "variants": variants,
        "channelRanges": {
            "command": f"quantlens analyze <model> --data {base['dataset']} --split test --calib {MEASURE_IMAGES} "
                       f"--seed {seed} --no-sensitivity --limit 0",
            "split": "test", "images": MEASURE_IMAGES, "layerNorms": layer_norms,
        },
    }
    write_atomic(json_path, json.dumps(doc, indent=1) + "\n")
    gaps = ", ".join(f"{v['name']} {v['outputGap']['relative']:.1e}" for v in variants)
    nat = [x["naturalRangeRatio"] for x in layer_norms if x["rescaled"]]
    st = [x["stressRangeRatio"] for x in layer_norms if x["rescaled"]]
    print(f"{name}: wrote {', '.join(v['file'] for v in variants)} (relative output gap {gaps}); channel range "
          f"ratio of the rescaled LayerNorms {min(nat):.2f}-{max(nat):.2f} natural, {min(st):.2f}-{max(st):.2f} stress")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", help="base model name (default: every classification ViT)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = ap.parse_args()
    if not os.path.exists(CLI):
        subprocess.run(["npm", "run", "-s", "build"], cwd=ROOT, check=True)
    with open(os.path.join(MODELS, "manifest.json")) as f:
        entries = json.load(f)["models"]
    by_name = {e["name"]: e for e in entries}
    bases = [e for e in entries if e["variantOf"] is None and e["task"] == "classification"
             and e["architecture"] in ARCHITECTURES]
    if args.model:
        unknown = set(args.model) - {e["name"] for e in bases}
        if unknown:
            sys.exit(f"not a shipped classification ViT: {', '.join(sorted(unknown))}")
        bases = [e for e in bases if e["name"] in args.model]
    failed = False
    for base in bases:
        op13 = by_name.get(base["name"] + "-op13")
        if op13 is None:
            print(f"{base['name']}: no opset-13 entry in the manifest; skipped", file=sys.stderr)
            failed = True
            continue
        try:
            make(base, op13, args.seed, args.force)
        except (RuntimeError, KeyError, ValueError) as e:
            print(f"{base['name']}: {e}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
