import { readNumber } from './values.js';

/** Calls `visit` for each non-blank line with its 1-based line number; accepts \n and \r\n. */
export function forEachLine(text: string, visit: (line: string, lineNumber: number) => void): void {
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') visit(line, index + 1);
  }
}

/** The first non-blank line and its number, or null for a blank text. */
export function firstLine(text: string): { line: string; lineNumber: number } | null {
  let lineNumber = 1;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = (end === -1 ? text.slice(start) : text.slice(start, end)).replace(/\r$/, '');
    if (line.trim() !== '') return { line, lineNumber };
    if (end === -1) return null;
    start = end + 1;
    lineNumber++;
  }
  return null;
}

/**
 * A header names columns: none of its cells is a number. (A data row with one damaged cell
 * still has numbers, so it is read, and reported, as data rather than skipped as a header.)
 */
export function isHeaderLine(cells: readonly string[]): boolean {
  return cells.every((cell) => readNumber(cell) === null);
}

/** Splits one CSV line on commas; trims fields and drops surrounding double quotes. */
export function splitCsvLine(line: string): string[] {
  const cells = line.split(',');
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    // Most cells are bare ("28923.63"): clean only those that start or end with a space, a
    // quote or anything non-ASCII (trim() also removes Unicode spaces and a BOM).
    const first = cell.charCodeAt(0);
    const last = cell.charCodeAt(cell.length - 1);
    if (cell.length === 0 || first <= 34 || first >= 127 || last <= 34 || last >= 127) {
      cells[i] = cleanCell(cell);
    }
  }
  return cells;
}

function cleanCell(field: string): string {
  const trimmed = field.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1).trim()
    : trimmed;
}
