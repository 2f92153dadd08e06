"""Write models/manifest.json and one model card per model from the models/<name>.metrics.json files that
tools/export.py leaves (DESIGN.md section 3 format; validated by src/models/manifest.ts).

Stress variants of the classification ViTs (models/<name>-stress.onnx, models/<name>-op13-stress.onnx) get entries
of their own and a section in the base model's card, from the models/<name>-stress.json that tools/make_stress.py
writes; stale ones (the base model re-exported since) are left out with a warning until make_stress.py is re-run.

Run: /usr/bin/python3 tools/make_manifest.py      (deterministic; re-run after every export and make_stress.py)
"""
import glob
import hashlib
import json
import os
import statistics
import sys

MODELS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "models"))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def preprocess(p):
    # tools/ record the network input size (after padding); quantlens records the image crop size and the padding
    # added around it (src/data/preprocess.ts), so a 28x28 image padded by 2 is {size: 28, pad: 2}.
    if p is None:
        return None
    pad = p.get("pad", 0)
    out = {"size": p["size"] - 2 * pad, "channels": p["channels"], "mean": p["mean"], "std": p["std"]}
    if pad:
        out["pad"] = pad
    return out


def scheduler(s):
    if s is None:
        return None
    return {k: s[k] for k in ("type", "betaSchedule", "betaStart", "betaEnd", "trainSteps")}


def metrics(m):
    return {k: v for k, v in m.items() if isinstance(v, (int, float)) and k not in ("test_images",)}


# Top-1 targets of the models issue (#3) on CPU-only tasks.
TARGETS = {"deit-fmnist": 0.90, "deit-cifar10": 0.75, "swin-cifar10": 0.70, "fmnist-features": 0.92}


def load_stress(name, entries):
    """models/<name>-stress.json when it matches the files on disk (source and stress models unchanged since
    tools/make_stress.py wrote it), else None (with a warning when it exists but is stale)."""
    path = os.path.join(MODELS, name + "-stress.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        doc = json.load(f)
    shas = {e["name"]: e["sha256"] for e in entries}
    for v in doc["variants"]:
        out = os.path.join(MODELS, v["file"])
        if not (shas.get(v["source"]) == v["sourceSha256"] and os.path.exists(out) and sha256(out) == v["sha256"]):
            print(f"warning: {os.path.basename(path)} is stale ({v['file']}); stress entries left out until "
                  f"`tools/make_stress.py --model {name}` is re-run", file=sys.stderr)
            return None
    return doc


def stress_summary(doc, v):
    """The manifest's "stress" field (validated by src/models/manifest.ts)."""
    norms = v["norms"]
    return {"seed": doc["seed"], "norms": len(norms), "outliersPerNorm": [len(r["outliers"]) for r in norms],
            "maxFactor": round(max(r["maxFactor"] for r in norms), 4),
            "medianFactor": round(statistics.median(r["medianFactor"] for r in norms), 4),
            "outputGap": v["outputGap"]["gap"], "outputGapRelative": v["outputGap"]["relative"]}


def stress_section(m, doc):
    name = m["name"]
    v17, v13 = doc["variants"]
    s = stress_summary(doc, v17)
    cr = doc["channelRanges"]
    outliers = sorted(set(s["outliersPerNorm"]))
    consumers = "qkv, fc1 and patch-merging reduction" if m["architecture"] == "swin" else "qkv and fc1"
    lines = [f"## Stress variant (`{v17['name']}`, `{v13['name']}`): not a natural model", "",
             f"`{v17['file']}` (from `{m['files']['opset17']['file']}`) and `{v13['file']}` (from "
             f"`{m['files']['opset13']['file']}`) are this trained network with a function-preserving per-channel "
             f"rescaling of every post-LayerNorm pair ({s['norms']} LayerNorms feeding a linear layer): LayerNorm "
             f"gamma and beta times r, the next layer's input columns ({consumers}) divided by r. "
             f"The factors r (seed {s['seed']}) are heavy-tailed: {'/'.join(map(str, outliers))} outlier channel(s) "
             "per LayerNorm log-uniform in 10-40x, the others exp(|N(0, 0.35)|) (src/models/stress.ts defaults); "
             "largest factor "
             f"{s['maxFactor']:.1f}, median of the per-LayerNorm median factors {s['medianFactor']:.2f}. This gives "
             "the post-LayerNorm structure the RepQ-ViT and FQ-ViT figures show for pretrained DeiT and Swin, which "
             "the natural model above lacks.", "",
             "Outputs unchanged: `quantlens stress` checks the variant against its source on seeded random inputs "
             f"before writing it (max abs gap {v17['outputGap']['gap']:.1e} at opset 17, "
             f"{v13['outputGap']['gap']:.1e} at opset 13; relative {v17['outputGap']['relative']:.1e}), and the "
             "manifest lists the natural model's metrics for it (`quantlens eval` reproduces them: "
             "src/models/manifest.test.ts).", "",
             "**Results on the stress variant are always reported beside the natural model's, never instead of "
             "them.**", "",
             f"Channel range ratio (max channel range / median channel range of the LayerNorm output) over "
             f"{cr['images']} seeded {cr['split']} images, natural vs stress, measured in quantlens by "
             f"`{cr['command']}` "
             "(other images than the PyTorch table above, so the natural ratios differ slightly):", "",
             "| LayerNorm | rescaled | channel range ratio, natural | channel range ratio, stress "
             "| gamma max/median, stress |",
             "| --- | :---: | ---: | ---: | ---: |"]
    for ln in cr["layerNorms"]:
        g = ln["stressGammaRatio"]
        lines.append(f"| {ln['node']} | {'yes' if ln['rescaled'] else 'no'} | {ln['naturalRangeRatio']:.2f} | "
                     f"{ln['stressRangeRatio']:.2f} | {'' if g is None else f'{g:.2f}'} |")
    lines += ["", f"Rebuild: `/usr/bin/python3 tools/make_stress.py --model {name}` (writes both files and "
              f"`{name}-stress.json`), then `tools/make_manifest.py`.", ""]
    return lines


def card(m, stress=None):
    name = m["name"]
    r = m["training"]["recipe"]
    lines = [f"# {name}", "",
             f"{m['architecture']} for {m['dataset']} ({m['task']}), {m['params']:,} parameters, "
             f"{m.get('gflops_per_image', 0):.3f} GFLOP per image. Trained from scratch by `tools/train.py --model {name}` "
             f"(seed {m['training']['seed']}, PyTorch {m['training']['torch']}, {m['training']['threads']} thread(s), "
             f"{m['training']['train_minutes']} min) and exported by `tools/export.py --model {name}` with "
             "`torch.onnx.export` at opset 17 (`" + m["files"]["opset17"]["file"] + "`) and opset 13 (`"
             + m["files"]["opset13"]["file"] + "`).", "",
             "## Measured metrics (PyTorch, full test set)", ""]
    for k, v in metrics(m["metrics"]).items():
        lines.append(f"- {k}: {v:.4f}" if isinstance(v, float) else f"- {k}: {v}")
    target = TARGETS.get(name)
    if target is not None and "top1" in m["metrics"]:
        met = m["metrics"]["top1"] >= target
        lines += ["", f"Target top-1 >= {target:.2f}: {'met' if met else 'NOT met yet (train longer: see tools/README.md)'}."]
    lines += ["", "Check in quantlens: `npx quantlens eval " + name + " --data " + m["dataset"] + " --json` "
              "(full test set; must agree within 0.2 points of top-1 where the task has labels).", ""]
    stats = m.get("activation_stats") or {}
    if stats.get("layernorm"):
        # Per block: norm1 feeds attention, so the attention row of the same block sits beside it.
        att = {a["module"].rsplit(".attn", 1)[0]: a["share_below_1e-3"] for a in stats.get("attention", [])}
        lines += [f"## Post-LayerNorm and attention structure ({stats.get('images', '?')} test images)", "",
                  "| LayerNorm | channel range ratio (max/median) | gamma max/median | attention probs < 1e-3 |",
                  "| --- | ---: | ---: | ---: |"]
        for s in stats["layernorm"]:
            block = s["module"].rsplit(".", 1)[0]
            share = att.get(block) if s["module"].endswith("norm1") else None
            lines.append(f"| {s['module']} | {s['channel_range_ratio']:.2f} | {s['gamma_abs_max_over_median']:.2f} | "
                         f"{'' if share is None else f'{share:.3f}'} |")
        lines += ["", "Real pretrained ViTs show channel range ratios of 10x and more; ratios below about 2 mean the "
                  "post-LayerNorm structure the RepQ-ViT paper quantizes is not there (see the stress variant).", ""]
    if stress is not None:
        lines += stress_section(m, stress)
    lines += ["## Training recipe", "", "```json", json.dumps(r, indent=1), "```", "",
              "## History (test set after each epoch)", "", "| epoch | top-1 | loss | minutes |", "| ---: | ---: | ---: | ---: |"]
    for h in m["training"].get("history", []):
        lines.append(f"| {h['epoch']} | {h.get('top1', float('nan')):.4f} | {h.get('loss', float('nan')):.4f} | {h['elapsed_min']} |")
    lines += ["", "## Rebuild", "", "```sh", f"/usr/bin/python3 tools/train.py --model {name}",
              f"/usr/bin/python3 tools/export.py --model {name}", "/usr/bin/python3 tools/make_manifest.py"]
    if stress is not None:
        lines += [f"/usr/bin/python3 tools/make_stress.py --model {name}", "/usr/bin/python3 tools/make_manifest.py"]
    lines += ["```", ""]
    return "\n".join(lines)


def main():
    entries = []
    for path in sorted(glob.glob(os.path.join(MODELS, "*.metrics.json"))):
        with open(path) as f:
            m = json.load(f)
        name = m["name"]
        for key, suffix, variant in (("opset17", "", None), ("opset13", "-op13", name)):
            file = m["files"][key]["file"]
            entries.append({
                "name": name + suffix, "file": file, "task": m["task"], "dataset": m["dataset"],
                "architecture": m["architecture"], "params": m["params"], "opset": 17 if key == "opset17" else 13,
                "variantOf": variant, "input": m["input"], "preprocess": preprocess(m.get("preprocess")),
                "labels": m.get("labels"), "scheduler": scheduler(m.get("scheduler")), "metrics": metrics(m["metrics"]),
                "sha256": sha256(os.path.join(MODELS, file)), "card": name + ".md",
            })
        stress = load_stress(name, entries) if m["task"] == "classification" else None
        for v in (stress or {}).get("variants", []):
            base = next(e for e in entries if e["name"] == v["source"])
            entries.append({**base, "name": v["name"], "file": v["file"], "variantOf": name,
                            "stress": stress_summary(stress, v), "sha256": v["sha256"]})
        with open(os.path.join(MODELS, name + ".md"), "w") as f:
            f.write(card(m, stress))
    with open(os.path.join(MODELS, "manifest.json"), "w") as f:
        json.dump({"schemaVersion": 1, "models": entries}, f, indent=1)
        f.write("\n")
    print(f"{len(entries)} entries -> {os.path.join(MODELS, 'manifest.json')}")


if __name__ == "__main__":
    main()
