// `tl-scratch playground` as a user runs it (the built CLI): prints its 127.0.0.1 address and
// serves the page until stopped (Ctrl-C at once); a bad port is one usage line.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { cli, cliAsync } from '../cli/run.js';


/** Starts `playground --port 0 --no-open` and waits for the address it prints. */
async function startPlayground(): Promise<{ child: ReturnType<typeof cliAsync>; url: string }> {
  const child = cliAsync(['playground', '--port', '0', '--no-open'], mkdtempSync(join(tmpdir(), 'tl-pg-cli-')));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address printed: ${out}`)), 30_000);
    const onExit = (code: number | null) => reject(new Error(`exited ${code}: ${out}`));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /tl-scratch playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(m[1]!);
      }
    });
    child.on('exit', onExit);
  });
  return { child, url };
}

describe('tl-scratch playground (the command)', () => {
  it('--port 0 --no-open prints the address, serves the page there, and stops on SIGTERM', async () => {
    const { child, url } = await startPlayground();
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

  it('Ctrl-C (SIGINT) stops it at once although a browser holds keep-alive connections open: exit 0', async () => {
    const { child, url } = await startPlayground();
    // Two requests on one kept-alive socket, which stays open afterwards, as a browser's does.
    const agent = new Agent({ keepAlive: true });
    const get = (path: string) => new Promise<number>((resolve, reject) => {
      request(`${url}${path}`, { agent }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode!)); }).on('error', reject).end();
    });
    try {
      expect(await get('')).toBe(200);
      expect(await get('api/info')).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      child.kill('SIGINT');
      // A generous bound for a loaded machine: before, the server waited on the open sockets.
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGINT'), 10_000).unref())]);
      expect(code).toBe(0);
    } finally {
      agent.destroy();
      child.kill('SIGKILL');
    }
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
