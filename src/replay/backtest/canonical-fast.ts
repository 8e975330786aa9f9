import { createHash, type Hash } from 'node:crypto';

/**
 * canonicalJson (src/domain/events/canonical-json.ts), written for speed: the same text for every
 * value (sorted keys at every level, undefined-valued keys left out, undefined array items as
 * null), built by one string concatenation instead of map/join, with quoted keys cached and
 * numbers formatted without JSON.stringify. Hashing the decision events of a year of 1-minute
 * candles (45,000 events, 34 MB of JSON) is most of what `collect: 'hash'` costs, so it matters;
 * test/replay/canonical-fast.test.ts holds it equal to canonicalJson on arbitrary values.
 */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < 10_000) quotedKeys.set(key, q);
  }
  return q;
}

export function fastCanonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item = value[i];
          out += item === undefined ? 'null' : fastCanonicalJson(item);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const item = record[key];
        if (item === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += quotedKey(key) + fastCanonicalJson(item);
      }
      return `${out}}`;
    }
    default:
      return JSON.stringify(value);
  }
}

/**
 * SHA-256 over canonical JSON texts, written byte by byte into a buffer that is hashed whenever
 * it fills: the same digest as hashing fastCanonicalJson(value) for each value, without building
 * the text. Building it as a string made a rope of a hundred pieces per event that hashing then
 * had to flatten and encode as UTF-8: that was most of the cost of a backtest's decision hash.
 * ASCII goes in as it is; a string that JSON.stringify would escape, or that is not ASCII, goes
 * in as JSON.stringify's UTF-8 bytes.
 */
export class CanonicalJsonHash {
  private readonly hash: Hash = createHash('sha256');
  private buffer = Buffer.allocUnsafe(1 << 16);
  private at = 0;

  /** Appends canonicalJson(value). */
  value(value: unknown): void {
    switch (typeof value) {
      case 'number':
        this.ascii(Number.isFinite(value) ? String(value) : 'null');
        return;
      case 'boolean':
        this.ascii(value ? 'true' : 'false');
        return;
      case 'string':
        this.string(value);
        return;
      case 'object':
        if (value === null) this.ascii('null');
        else if (Array.isArray(value)) this.array(value);
        else this.record(value as Record<string, unknown>);
        return;
      default:
        // undefined, functions, symbols, bigints: whatever fastCanonicalJson makes of them
        this.text(String(fastCanonicalJson(value)));
    }
  }

  /** Appends one ASCII character (code < 128). */
  char(code: number): void {
    if (this.at === this.buffer.length) this.flush();
    this.buffer[this.at++] = code;
  }

  digest(): string {
    this.flush();
    return this.hash.digest('hex');
  }

  private array(items: readonly unknown[]): void {
    this.char(91 /* [ */);
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.char(44 /* , */);
      const item = items[i];
      if (item === undefined) this.ascii('null');
      else this.value(item);
    }
    this.char(93 /* ] */);
  }

  private record(record: Record<string, unknown>): void {
    const order = keyOrder(record);
    // the values in Object.keys order, read in sorted order: one native call instead of a
    // property lookup by name per key
    const values = Object.values(record);
    const { position, encoded } = order;
    this.char(123 /* { */);
    let first = true;
    for (let i = 0; i < position.length; i++) {
      const item = values[position[i]!];
      if (item === undefined) continue;
      if (!first) this.char(44 /* , */);
      first = false;
      this.bytes(encoded[i]!);
      this.value(item);
    }
    this.char(125 /* } */);
  }

  private bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.buffer.length - this.at < n) this.reserve(n);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < n; i++) buffer[at++] = b[i]!;
    this.at = at;
  }

  /** JSON.stringify(s), written directly when that is s in quotes. */
  private string(s: string): void {
    const n = s.length;
    if (this.buffer.length - this.at < n + 2) this.reserve(n + 2);
    const buffer = this.buffer;
    const start = this.at;
    let at = start;
    buffer[at++] = 34; /* " */
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 32 || c > 126 || c === 34 || c === 92) {
        this.at = start;
        this.text(JSON.stringify(s));
        return;
      }
      buffer[at++] = c;
    }
    buffer[at++] = 34;
    this.at = at;
  }

  /** Appends characters known to be ASCII, as they are. */
  ascii(s: string): void {
    const n = s.length;
    if (this.buffer.length - this.at < n) this.reserve(n);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < n; i++) buffer[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** Any text, as UTF-8. */
  private text(s: string): void {
    const most = s.length * 3;
    if (this.buffer.length - this.at < most) this.reserve(most);
    this.at += this.buffer.write(s, this.at, 'utf8');
  }

  /** Room for n more bytes: hash what is there, and grow when one piece needs more. */
  private reserve(n: number): void {
    this.flush();
    if (n > this.buffer.length) this.buffer = Buffer.allocUnsafe(n);
  }

  private flush(): void {
    if (this.at > 0) this.hash.update(this.buffer.subarray(0, this.at));
    this.at = 0;
  }
}

/** `"key":` as UTF-8 bytes. */
function keyBytes(key: string): Uint8Array {
  return Buffer.from(quotedKey(key), 'utf8');
}

/** How to write an object with these keys: Object.keys positions in sorted key order, and each key's bytes. */
interface KeyOrder {
  readonly keys: readonly string[];
  readonly position: Int32Array;
  readonly encoded: readonly Uint8Array[];
}

/**
 * The sorted order of Object.keys(record), remembered per key list: objects built by the same
 * code list the same keys in the same order, and comparing a list with a remembered one (the
 * same interned strings) costs far less than sorting it again.
 */
const orders = new Map<string, KeyOrder[]>();

function keyOrder(record: Record<string, unknown>): KeyOrder {
  const keys = Object.keys(record);
  const firstKey = keys[0] ?? '';
  let known = orders.get(firstKey);
  if (known !== undefined) {
    for (const order of known) if (sameKeys(order.keys, keys)) return order;
  } else {
    known = [];
    if (orders.size < 1_000) orders.set(firstKey, known);
  }
  const sorted = keys
    .map((key, i) => ({ key, i }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const order: KeyOrder = {
    keys,
    position: Int32Array.from(sorted, (k) => k.i),
    encoded: sorted.map((k) => keyBytes(k.key)),
  };
  if (known.length < 16) known.push(order);
  return order;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
