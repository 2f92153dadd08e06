// Top-k hits on a batch of logits, in one pass per row without sorting.

export function topkHits(logits: Float32Array, classes: number, labels: Int32Array, k: number): number {
  let hits = 0;
  for (let r = 0; r < labels.length; r++) {
    const base = r * classes;
    const target = logits[base + labels[r]!]!;
    // Rank of the target = number of classes scoring strictly higher (ties favour the target, as torch.topk
    // keeps the lower index first only by chance; strict comparison is the stable choice).
    let higher = 0;
    for (let c = 0; c < classes && higher < k; c++) if (logits[base + c]! > target) higher++;
    if (higher < k) hits++;
  }
  return hits;
}
