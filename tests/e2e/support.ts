// Helpers for the browser tests: an OTP webhook receiver, sign-in through the UI or the API,
// axe-core checks, and the gzipped size of the JavaScript a page loaded.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { ROOT } from '../helpers/processes.ts';

/** A local node:http server standing in for the SMS gateway: OTP_WEBHOOK_URL posts {phone, code} here. */
export async function otpInbox(): Promise<{ url: string; code: (phone: string) => Promise<string>; close: () => Promise<void> }> {
  const codes = new Map<string, string[]>();
  const waiters = new Map<string, ((code: string) => void)[]>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        const { phone, code } = JSON.parse(body) as { phone: string; code: string };
        const w = waiters.get(phone)?.shift();
        if (w) w(code);
        else codes.set(phone, [...(codes.get(phone) ?? []), code]);
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    /** The next code sent to `phone` (waits for it; rejects after 20 s). */
    code: (phone) => {
      const queued = codes.get(phone)?.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no OTP code for ${phone} within 20 s`)), 20_000);
        waiters.set(phone, [...(waiters.get(phone) ?? []), (c) => (clearTimeout(t), res(c))]);
      });
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Signs in through the API (as a script would) and returns the session cookie and headers for fetch. */
export async function apiSignIn(base: string, phone: string, inbox: Awaited<ReturnType<typeof otpInbox>>) {
  const headers = { 'content-type': 'application/json', origin: base };
  const otp = await fetch(`${base}/api/auth/otp`, { method: 'POST', headers, body: JSON.stringify({ phone }) });
  if (otp.status !== 202) throw new Error(`otp: ${otp.status} ${await otp.text()}`);
  const code = await inbox.code(phone);
  const res = await fetch(`${base}/api/auth/verify`, { method: 'POST', headers, body: JSON.stringify({ phone, code }) });
  if (!res.ok) throw new Error(`verify: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { user } = (await res.json()) as { user: { id: number } };
  return { user, cookie, headers: { ...headers, cookie } };
}

const AXE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

/** Runs axe-core (WCAG 2.x A/AA rules) on the page; returns the serious and critical violations. */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Records every JavaScript response of a page; `total()` is the sum of their gzipped sizes. */
export function recordScripts(page: Page) {
  const sizes = new Map<string, number>();
  const pending: Promise<void>[] = [];
  page.on('response', (res) => {
    const url = res.url();
    if (!/\.m?js(\?|$)/.test(new URL(url).pathname) && res.request().resourceType() !== 'script') return;
    pending.push(
      res.body().then(
        (b) => void sizes.set(url, gzipSync(b, { level: 9 }).length),
        () => {},
      ),
    );
  });
  return {
    async total() {
      await Promise.all(pending);
      return { files: sizes.size, bytes: [...sizes.values()].reduce((a, b) => a + b, 0), sizes };
    },
  };
}

/**
 * Waits until SvelteKit has hydrated the page and started its router (`_start_router` sets
 * `history.scrollRestoration = 'manual'` after hydration; a new document starts at 'auto'). Filling a
 * form before that races hydration: Svelte sets `value`/`checked` props and may wipe what was typed.
 */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() => history.scrollRestoration === 'manual');
}
