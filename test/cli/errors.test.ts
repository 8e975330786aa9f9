import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { TOKEN_ENV } from '../../src/api/auth.js';
import { cli } from '../support/cli.js';

/** Mistakes a user makes: each gets a message and a hint with exit code 1, never "internal error". */
describe('tradekernel: user mistakes are not bugs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-cli-errors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a path that does not exist, or is a folder, names the path', async () => {
    const missing = await cli('audit', 'verify', join(dir, 'nope', 'export.jsonl'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`tradekernel: ${join(dir, 'nope', 'export.jsonl')} does not exist`);
    expect(missing.stderr).toContain('hint:');
    const folder = await cli('audit', 'verify', dir);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain('is a folder, not a file');
    const init = await cli('init', '--file', join(dir, 'no', 'such', 'dir', 'config.json'));
    expect(init.code).toBe(1);
    expect(init.stderr).not.toContain('internal error');
  });

  it('a control for an account that does not exist is refused, not recorded', async () => {
    const r = await cli(
      '--data-dir',
      dir,
      'control',
      'kill-switch',
      '--account',
      'paper-typo',
      '--reason',
      'x',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--account paper-typo: no such account');
    const stats = await cli('--data-dir', dir, 'store', 'stats', '--json');
    expect(JSON.parse(stats.stdout).events).toBe(0);
  });

  it('a control sent to an API that is not running says so', async () => {
    process.env[TOKEN_ENV] = 'errors-test-token-0123456789abcdef';
    // a port that was free a moment ago: nothing listens on it
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const args = ['control', 'pause', '--account', 'paper-main', '--reason', 'x', '--api'];
    const down = await cli(...args, `http://127.0.0.1:${port}`);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      `the service API at http://127.0.0.1:${port} cannot be reached (ECONNREFUSED)`,
    );
    const bad = await cli(...args, 'notaurl');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--api notaurl: not a URL');
  });

  it('store tail: one of --stream and --prefix, and only types that exist', async () => {
    const both = await cli('--data-dir', dir, 'store', 'tail', '--stream', 's-1', '--prefix', 'paper');
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--stream and --prefix: give one of them');
    const wrongCase = await cli('--data-dir', dir, 'store', 'tail', '--type', 'candleclosed');
    expect(wrongCase.code).toBe(1);
    expect(wrongCase.stderr).toContain('--type candleclosed: no such event type');
    expect(wrongCase.stderr).toContain('did you mean CandleClosed?');
  });

  it('audit: an inverted range, and a ledger of an account that does not exist', async () => {
    const out = join(dir, 'x.jsonl');
    const range = ['--from', '2022-09-01', '--to', '2022-08-01'];
    const inverted = await cli(
      '--data-dir',
      dir,
      'audit',
      'export',
      '--account',
      'paper-x',
      ...range,
      '--out',
      out,
    );
    expect(inverted.code).toBe(1);
    expect(inverted.stderr).toContain('--to 2022-08-01 is not after --from 2022-09-01');
    const ledger = await cli('--data-dir', dir, 'audit', 'ledger', '--account', 'paper-nope');
    expect(ledger.code).toBe(1);
    expect(ledger.stderr).toContain('no account stream named paper-nope');
  });

  it("commander's own errors read like the others, and --help marks required options", async () => {
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    try {
      const r = await cli('audit', 'export', '--account', 'paper-x');
      expect(r.code).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(err.join('')).toBe(
      "tradekernel: required option '--out <file>' not specified\n  hint: run the command with --help for its usage\n",
    );
    // (--help wraps long lines: compare with the white space collapsed)
    const help = (await cli('audit', 'export', '--help')).stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      '--out <file> where to write; the manifest goes to <file>.manifest.json (required)',
    );
    expect(help).toContain('live-<name>) (required)');
    expect(help).toContain('--json print the manifest as JSON -h');
  });

  it('under --json a failure is one JSON document on stdout too, whichever command', async () => {
    const verify = await cli('--data-dir', dir, 'replay', 'verify', 'nope', '--json');
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout)).toEqual({
      error: { code: 'config', message: expect.stringContaining('no run nope'), hint: expect.any(String) },
    });
    // a command whose report carries the error prints the report alone
    const file = join(dir, 'BTCUSDT_1h.csv');
    writeFileSync(
      file,
      'timestamp,open,high,low,close,volume\n1609459200000,1,2,0.5,1.5,10\n1609462800000,1,0.5,2,1,10\n',
    );
    const imported = await cli('--data-dir', dir, 'data', 'import', file, '--json');
    expect(imported.code).toBe(1);
    const report = JSON.parse(imported.stdout);
    expect(report.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(report.files).toHaveLength(1);
  });

  it('--speed that is not a speed', async () => {
    const r = await cli('--data-dir', dir, 'run', '--speed', 'abc');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--speed: "abc" is not a positive number or max');
  });
});
