import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

describe('tradekernel init / config check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tradekernel.config.json');

  it('init writes a template that config check accepts, as text and as JSON', async () => {
    expect((await cli('init', '--file', file)).code).toBe(0);
    const text = await cli('config', 'check', '--config', file);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${file}: ok — account paper-main, binance 1h`);
    const json = JSON.parse((await cli('config', 'check', '--config', file, '--json')).stdout);
    expect(json).toMatchObject({ ok: true, file, config: { exchange: 'binance', capital: 1000 } });
    // init refuses to overwrite without --force
    expect((await cli('init', '--file', file)).code).toBe(1);
  });

  it('an exchange ccxt does not know is refused before the service would find out', async () => {
    const other = join(dir, 'other.json');
    writeFileSync(
      other,
      readFileSync(file, 'utf8').replace('"exchange": "binance"', '"exchange": "nosuchexchange"'),
    );
    const text = await cli('config', 'check', '--config', other);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(`${other}: "exchange": "nosuchexchange" is not an exchange ccxt knows`);
    const json = await cli('config', 'check', '--config', other, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, file: other });
  });
});
