// Aligned text tables for list/describe commands (kubectl-style: a header row, columns separated by
// three spaces, no borders, no trailing spaces).

export interface TableOptions {
  /** Per-column alignment; `right` suits counts and sizes. Left by default. */
  align?: ('left' | 'right')[];
  /** Separator between columns; three spaces by default. */
  gap?: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Display width of a cell: ANSI colour codes take no room. */
function width(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

function pad(text: string, to: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, to - width(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** Renders `rows` under `headers` with aligned columns; missing cells are empty, undefined shows as `-`. */
export function renderTable(
  headers: string[],
  rows: (string | number | boolean | undefined | null)[][],
  options: TableOptions = {},
): string {
  const gap = options.gap ?? '   ';
  const columns = Math.max(headers.length, ...rows.map((r) => r.length));
  const cells = [headers, ...rows].map((row) =>
    Array.from({ length: columns }, (_, i) => {
      const v = row[i];
      if (v === undefined || v === null) return row === headers ? '' : '-';
      return String(v).replace(/\r?\n/g, ' ');
    }),
  );
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...cells.map((r) => width(r[i]))));
  return cells
    .map((row) =>
      row
        .map((cell, i) => pad(cell, widths[i], options.align?.[i] ?? 'left'))
        .join(gap)
        .trimEnd(),
    )
    .join('\n');
}
