import { readdirSync, readFileSync } from 'node:fs';

/**
 * What Grafana does to a dashboard's SQL before the PostgreSQL datasource runs it, so tests can
 * run the same text: template variables (the frontend), then `$__interval` and friends
 * (sqleng.Interpolate), then the macro engine of the PostgreSQL datasource
 * (pkg/tsdb/grafana-postgresql-datasource/macros.go): `$__time`, `$__timeEpoch`,
 * `$__timeFilter`, `$__timeFrom`, `$__timeTo`, `$__timeGroup`, `$__timeGroupAlias`,
 * `$__unixEpochFilter`, `$__unixEpochGroup`, `$__unixEpochGroupAlias`.
 */

export const GRAFANA_DIR = new URL('../../grafana/', import.meta.url);

export interface Target {
  refId: string;
  datasource?: { type: string; uid: string };
  rawSql?: string;
  format?: 'time_series' | 'table';
  expr?: string;
}

export interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos: { x: number; y: number; w: number; h: number };
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string; datasource?: { uid: string } }[] };
}

export function dashboards(): { file: string; dashboard: Dashboard }[] {
  const dir = new URL('dashboards/', GRAFANA_DIR);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Dashboard }));
}

/** Every panel, rows' panels included. */
export function panelsOf(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface Expansion {
  from: Date;
  to: Date;
  intervalMs: number;
  /** the datasource's `timescaledb` setting: $__timeGroup becomes time_bucket */
  timescale: boolean;
  variables: Record<string, string>;
}

/** gtime.FormatInterval */
function formatInterval(ms: number): string {
  const units: [number, string][] = [
    [86_400_000 * 365, 'y'],
    [86_400_000 * 7, 'w'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** gtime.ParseInterval, for the forms dashboards use: 30s, 5m, 1h, 1d, 1w. */
function parseIntervalSeconds(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(text.trim());
  if (!m) throw new Error(`Grafana cannot parse the interval ${text}`);
  const n = Number(m[1]);
  const unit: Record<string, number> = {
    ms: 0.001,
    s: 1,
    m: 60,
    h: 3600,
    d: 86_400,
    w: 604_800,
    y: 31_536_000,
  };
  return n * unit[m[2]!]!;
}

const rfc3339 = (d: Date) => d.toISOString().replace('.000Z', 'Z');

export function expandSql(text: string, x: Expansion): string {
  // 1. template variables, as the frontend interpolates single-value variables into SQL
  let sql = text.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(?!__)(\w+)/g, (whole, a, b, c) => {
    const name = a ?? b ?? c;
    if (!(name in x.variables)) throw new Error(`unknown template variable ${whole}`);
    return x.variables[name]!;
  });
  // 2. sqleng.Interpolate
  sql = sql
    .replaceAll('$__interval_ms', String(x.intervalMs))
    .replaceAll('$__interval', formatInterval(x.intervalMs))
    .replaceAll('$__unixEpochFrom()', String(Math.floor(x.from.getTime() / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(x.to.getTime() / 1000)));
  // 3. the PostgreSQL macro engine
  const macro = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g;
  sql = sql.replace(macro, (whole, nameIn: string, argText: string, offset: number, all: string) => {
    let name = nameIn;
    // pre-5.3 compatibility: $__timeGroup directly followed by a comma gets an alias
    if (name === '__timeGroup' && all[offset + whole.length] === ',') name = '__timeGroupAlias';
    const args = argText.split(',').map((a) => a.trim());
    const group = (column: string, interval: string) => {
      const seconds = parseIntervalSeconds(interval.replace(/'/g, ''));
      return x.timescale
        ? `time_bucket('${seconds.toFixed(3)}s',${column})`
        : `floor(extract(epoch from ${column})/${seconds})*${seconds}`;
    };
    switch (name) {
      case '__time':
        return `${args[0]} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${args[0]}) as "time"`;
      case '__timeFilter':
        return `${args[0]} BETWEEN '${rfc3339(x.from)}' AND '${rfc3339(x.to)}'`;
      case '__timeFrom':
        return `'${rfc3339(x.from)}'`;
      case '__timeTo':
        return `'${rfc3339(x.to)}'`;
      case '__timeGroup':
        return group(args[0]!, args[1]!);
      case '__timeGroupAlias':
        return `${group(args[0]!, args[1]!)} AS "time"`;
      case '__unixEpochFilter':
        return `${args[0]} >= ${Math.floor(x.from.getTime() / 1000)} AND ${args[0]} <= ${Math.floor(x.to.getTime() / 1000)}`;
      case '__unixEpochGroup':
        return `floor((${args[0]})/${parseIntervalSeconds(args[1]!.replace(/'/g, ''))})*${parseIntervalSeconds(args[1]!.replace(/'/g, ''))}`;
      case '__unixEpochGroupAlias':
        return `floor((${args[0]})/${parseIntervalSeconds(args[1]!.replace(/'/g, ''))})*${parseIntervalSeconds(args[1]!.replace(/'/g, ''))} AS "time"`;
      default:
        throw new Error(`Grafana has no macro $${nameIn}`);
    }
  });
  return sql;
}

/** Grafana's PromQL variables, replaced the way Grafana does before the query leaves it. */
export function expandPromQl(expr: string, rateInterval = '1m'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h');
}

/** Metric names an expression reads (histogram series mapped to their family). */
export function metricNames(expr: string): string[] {
  const cleaned = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of cleaned.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const name = m[1]!;
    if (['and', 'or', 'unless', 'offset', 'bool'].includes(name)) continue;
    names.add(name.replace(/_(bucket|count|sum)$/, ''));
  }
  return [...names];
}
