// Markdown tables in the form of the papers' tables: rows are (method, W/A bits), columns are models, cells are
// top-1 in percent; calibration seconds in a second table.

export interface TableCell {
  model: string;
  label: string;
  bits: string;
  top1: number;
  calibSeconds: number;
}

const pct = (x: number) => (x * 100).toFixed(2);

export function paperTable(cells: TableCell[], models: string[]): string {
  const rows: { label: string; bits: string }[] = [];
  for (const c of cells)
    if (!rows.some((r) => r.label === c.label && r.bits === c.bits)) rows.push({ label: c.label, bits: c.bits });
  const find = (r: { label: string; bits: string }, m: string) =>
    cells.find((c) => c.model === m && c.label === r.label && c.bits === r.bits);
  const head = `| Method | W/A | ${models.join(' | ')} |\n| --- | --- | ${models.map(() => '---:').join(' | ')} |`;
  const body = rows.map(
    (r) =>
      `| ${r.label} | ${r.bits} | ${models.map((m) => (find(r, m) === undefined ? '–' : pct(find(r, m)!.top1))).join(' | ')} |`,
  );
  const time = rows
    .filter((r) => r.bits !== '32/32')
    .map(
      (r) =>
        `| ${r.label} | ${r.bits} | ${models.map((m) => (find(r, m) === undefined ? '–' : find(r, m)!.calibSeconds.toFixed(2))).join(' | ')} |`,
    );
  return `Top-1 accuracy (%):\n\n${head}\n${body.join('\n')}\n\nCalibration time (s):\n\n${head}\n${time.join('\n')}\n`;
}
