// `--limit N` picks N items spread evenly over the dataset rather than the first N: ImageFolder datasets are
// grouped by class, so the first N would often be one class only.

export function spreadIndices(size: number, limit: number | undefined): number[] | undefined {
  if (limit === undefined || limit >= size) return undefined;
  return Array.from({ length: limit }, (_, i) => Math.floor((i * size) / limit));
}
