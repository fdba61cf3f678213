// People and polls for the browser tests, made through the public API (as a script would), and a TCP
// proxy the browser talks through so a test can cut its connections like a flaky mobile network.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { apiSignIn, otpInbox } from './support.ts';
import type { PollCreate } from '../../shared/polls.ts';
import { startPlatform } from '../helpers/platform.ts';

type Inbox = Awaited<ReturnType<typeof otpInbox>>;
export type Actor = Awaited<ReturnType<typeof apiSignIn>> & { base: string };

async function call<T>(who: Actor, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${who.base}/api${path}`, { method, headers: who.headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Signed in through the API; with a profile when `district` is given. */
export async function actor(base: string, phone: string, inbox: Inbox, profile?: { district: string; birthYear: number }): Promise<Actor> {
  const who = { ...(await apiSignIn(base, phone, inbox)), base };
  if (profile) await call(who, 'PATCH', '/me', { ...profile, gender: 'female' });
  return who;
}

/** An actor whose roles an admin set (they apply on the actor's next request). */
export async function staff(base: string, phone: string, inbox: Inbox, admin: Actor, roles: string[]): Promise<Actor> {
  const who = await actor(base, phone, inbox);
  await call(admin, 'PUT', `/users/${who.user.id}/roles`, { roles: ['resident', ...roles] });
  return who;
}

export const api = call;

/** Create and publish a poll open now until tomorrow; returns its id. */
export async function livePoll(moderator: Actor, body: Partial<PollCreate> & Pick<PollCreate, 'title' | 'questions'>): Promise<number> {
  const now = Date.now();
  const poll = await call<{ id: number }>(moderator, 'POST', '/polls', {
    opensAt: new Date(now - 1000).toISOString(),
    closesAt: new Date(now + 24 * 3600_000).toISOString(),
    points: 0,
    ...body,
  });
  await call(moderator, 'POST', `/polls/${poll.id}/publish`);
  return poll.id;
}

export const vote = (who: Actor, pollId: number, answers: Record<string, string[]>) => call(who, 'POST', `/polls/${pollId}/ballots`, { answers });

/** The actor's session in a browser context (same origin as `base`). */
export async function useSession(ctx: BrowserContext, who: Actor, base: string): Promise<void> {
  const url = new URL(base);
  await ctx.addCookies(
    who.cookie.split('; ').map((c) => {
      const i = c.indexOf('=');
      return { name: c.slice(0, i), value: c.slice(i + 1), domain: url.hostname, path: '/', httpOnly: true, sameSite: 'Lax' as const };
    }),
  );
}

/**
 * A TCP proxy in front of the platform. `cut()` drops every open connection and refuses new ones (the
 * client sees its WebSocket close, as when a phone loses signal) until `restore()`.
 */
export async function flakyProxy(): Promise<{ port: number; target: (port: number) => void; cut: () => void; restore: () => void; close: () => Promise<void> }> {
  let targetPort = 0;
  let down = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (down || !targetPort) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    target: (p) => void (targetPort = p),
    cut: () => {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore: () => void (down = false),
    close: () => {
      for (const s of open) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * The platform a browser test file runs against: an OTP inbox as its SMS sender (codes are read from it),
 * `adminPhone` in ADMIN_PHONES and signed in, live ticks every 100 ms; `stop` ends the platform and the inbox.
 */
export async function startStack(adminPhone: string, env: Record<string, string> = {}) {
  const inbox = await otpInbox();
  let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
  const stop = async () => {
    await platform?.stop();
    await inbox.close();
  };
  try {
    platform = await startPlatform({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: inbox.url, ADMIN_PHONES: adminPhone, TICK_MS: '100', ...env });
    return { inbox, platform, admin: await actor(platform.url, adminPhone, inbox), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
