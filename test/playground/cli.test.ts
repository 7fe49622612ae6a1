// `tl-scratch playground` as a user runs it (the built CLI): prints its 127.0.0.1 address and
// serves the page until stopped; a bad port is one usage line.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync } from '../cli/run.js';

describe('tl-scratch playground (the command)', () => {
  it('--port 0 --no-open prints the address, serves the page there, and stops on SIGTERM', async () => {
    const child = cliAsync(['playground', '--port', '0', '--no-open'], mkdtempSync(join(tmpdir(), 'tl-pg-cli-')));
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed: ${out}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /tl-scratch playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('tl-scratch playground');
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });

  it('--help says what it serves and where', () => {
    const r = cli(['playground', '--help'], tmpdir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/127\.0\.0\.1/);
    expect(r.stdout).toMatch(/--port <n>/);
    expect(r.stdout).toMatch(/--no-open/);
  });

  it('a port out of range is one usage line', () => {
    const r = cli(['playground', '--port', '70000', '--no-open'], tmpdir());
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--port must be in 0\.\.65535/);
  });
});
