import { describe, it, expect } from 'vitest';
import { createServer } from 'node:net';
import { launch, type Launched } from '../helpers/launcher.ts';

/** The port is free again: something can listen on it (nothing of the platform holds it). */
const portIsFree = (port: number) =>
  new Promise<boolean>((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });

/**
 * `npm start` is stopped the ways an operator, a process manager, a container runtime or a terminal
 * stops it. Each way: every process drains and stops, npm exits 0 within the shutdown timeout, and
 * nothing is left running or holding the port.
 */
async function stopsCleanly(label: string, signal: NodeJS.Signals, target: (p: Launched) => number) {
  const p = await launch({ via: 'npm', label });
  try {
    const pid = target(p);
    const t0 = performance.now();
    process.kill(pid, signal);
    const { code, signal: died } = await Promise.race([
      p.proc.exited,
      new Promise<{ code: null; signal: null }>((res) => setTimeout(() => res({ code: null, signal: null }), 20_000)),
    ]);
    const ms = performance.now() - t0;
    console.log(`[signals] ${signal} to ${label}: npm exited ${code ?? died} after ${ms.toFixed(0)} ms; pids ${JSON.stringify(p.pids)}`);
    expect(code, p.proc.output().slice(-3000)).toBe(0);
    // the launcher waits for its children before it exits, so npm's exit means all of them are gone
    expect(p.survivors()).toEqual([]);
    expect(ms).toBeLessThan(5_000); // SHUTDOWN_TIMEOUT_MS of the launch
    expect(p.proc.output()).toMatch(/server stopped/);
    expect(p.proc.output()).toMatch(/worker stopped/);
    expect(p.proc.output()).toMatch(/private postgres stopped/);
    expect(p.proc.output()).toMatch(/private redis-server stopped/);
    expect(await portIsFree(p.port)).toBe(true);
  } finally {
    await p.destroy();
  }
}

describe('faults: stopping npm start with a signal', () => {
  it("when SIGTERM goes to npm's pid (systemd, a process manager), then everything drains and stops and npm exits 0", async () => {
    await stopsCleanly('npm-pid', 'SIGTERM', (p) => p.proc.child.pid!);
  });

  it("when SIGTERM goes to the launcher's pid (scripts/start.ts), then everything drains and stops and npm exits 0", async () => {
    await stopsCleanly('launcher-pid', 'SIGTERM', (p) => p.pids.launcher);
  });

  it('when SIGTERM goes to the whole process group (a container runtime, kill -- -pgid), then everything drains and stops and npm exits 0', async () => {
    await stopsCleanly('group-term', 'SIGTERM', (p) => -p.proc.child.pid!);
  });

  it("when SIGINT goes to the launcher's pid, then everything drains and stops and npm exits 0", async () => {
    await stopsCleanly('launcher-int', 'SIGINT', (p) => p.pids.launcher);
  });

  it('when SIGINT goes to the whole process group (Ctrl-C in a terminal), then everything drains and stops and npm exits 0', async () => {
    await stopsCleanly('group-int', 'SIGINT', (p) => -p.proc.child.pid!);
  });

  it("when SIGINT goes to npm's pid, then everything drains and stops and npm exits 0", async () => {
    await stopsCleanly('npm-int', 'SIGINT', (p) => p.proc.child.pid!);
  });
});
