import { MarketFileError } from './errors.js';
import { type ParsedCandles, RowCollector } from './rows.js';
import { describeRaw } from './values.js';

/**
 * freqtrade's JSON candle files (`download-data --data-format-ohlcv json`): one array of
 * `[open_time_ms, open, high, low, close, volume]` rows, usually all on one line. Each row keeps
 * the line it starts on and its position, which is what locates it in a one-line file.
 */
export function parseFreqtradeJson(text: string, file = '(input)'): ParsedCandles {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new MarketFileError(file, `not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data)) {
    throw new MarketFileError(
      file,
      `expected a JSON array of [open_time_ms, open, high, low, close, volume] rows, found ${describeRaw(data)}`,
    );
  }
  const lines = topLevelElementLines(text);
  const rows = new RowCollector();
  data.forEach((element: unknown, index) => {
    const position = { line: lines[index] ?? 1, row: index + 1 };
    if (!Array.isArray(element) || element.length !== 6) {
      rows.unreadableRow(
        position,
        element,
        `expected [open_time_ms, open, high, low, close, volume], found ${describeRaw(element)}`,
      );
      return;
    }
    rows.add(position, element[0], element.slice(1));
  });
  return { candles: rows.candles, issues: rows.issues };
}

/**
 * The 1-based line on which each element of the top-level JSON array starts. JSON.parse gives no
 * positions, so this walks the (already validated) text once, skipping string contents.
 */
export function topLevelElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let awaitingElement = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === BACKSLASH) i++;
      else if (char === QUOTE) inString = false;
      continue;
    }
    if (char === NEWLINE) {
      line++;
      continue;
    }
    if (char === SPACE || char === TAB || char === RETURN) continue;
    if (depth === 1 && awaitingElement && char !== CLOSE_BRACKET) {
      lines.push(line);
      awaitingElement = false;
    }
    if (char === QUOTE) inString = true;
    else if (char === OPEN_BRACKET || char === OPEN_BRACE) {
      depth++;
      if (depth === 1) awaitingElement = true;
    } else if (char === CLOSE_BRACKET || char === CLOSE_BRACE) depth--;
    else if (char === COMMA && depth === 1) awaitingElement = true;
  }
  return lines;
}

const NEWLINE = 10;
const RETURN = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
