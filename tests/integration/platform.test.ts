import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, testConfig, testLogger, TEST_ORIGIN } from '../helpers/context.ts';
import { startWorkers, type RunningWorker } from '../../server/worker.ts';
import type { RunningServer } from '../../server/main.ts';

describe('platform HTTP basics', () => {
  let s: RunningServer & { url: string };
  beforeAll(async () => {
    s = await testServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it('when /healthz is asked, then it answers 200 while the process is up', async () => {
    const r = await fetch(`${s.url}/healthz`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).status).toBe('ok');
  });

  it('when no worker is connected, then /readyz is 503; when one is, then 200', async () => {
    const r1 = await fetch(`${s.url}/readyz`);
    expect(r1.status).toBe(503);
    expect(((await r1.json()) as any).checks.workers).toBe('none connected');
    // a worker on the same Redis and prefix
    let w: RunningWorker | undefined;
    try {
      w = await startWorkers({ ...s.ctx.config }, testLogger);
      const r2 = await fetch(`${s.url}/readyz`);
      expect(r2.status).toBe(200);
      expect(((await r2.json()) as any).checks).toMatchObject({ redis: 'ok' });
    } finally {
      await w?.close();
    }
  });

  it('when an /api route does not exist, then 404 with the JSON error shape', async () => {
    const r = await fetch(`${s.url}/api/does-not-exist`);
    expect(r.status).toBe(404);
    expect((await r.json()) as any).toEqual({ error: { code: 'not_found', message: expect.any(String), details: null } });
  });

  it('when the body is not JSON, then 400 invalid_json and no stack trace', async () => {
    const r = await fetch(`${s.url}/api/anything`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(r.status).toBe(400);
    const text = await r.text();
    expect(JSON.parse(text).error.code).toBe('invalid_json');
    expect(text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('when the body is over 64 KB, then 413 payload_too_large', async () => {
    const r = await fetch(`${s.url}/api/anything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 'a'.repeat(1024 * 1024) }),
    });
    expect(r.status).toBe(413);
    expect(((await r.json()) as any).error.code).toBe('payload_too_large');
  });

  it('when a form body is posted to the JSON API, then 415', async () => {
    const r = await fetch(`${s.url}/api/anything`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(r.status).toBe(415);
  });

  it('when a cookie-carrying POST comes from a foreign origin, then 403 csrf_rejected', async () => {
    const bad = await fetch(`${s.url}/api/anything`, { method: 'POST', headers: { cookie: 'ac_sid=x', origin: 'https://evil.example' } });
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as any).error.code).toBe('csrf_rejected');
    const none = await fetch(`${s.url}/api/anything`, { method: 'POST', headers: { cookie: 'ac_sid=x' } });
    expect(none.status).toBe(403);
    const good = await fetch(`${s.url}/api/anything`, { method: 'POST', headers: { cookie: 'ac_sid=x', origin: TEST_ORIGIN } });
    expect(good.status).toBe(404); // passed the origin check, no such route
  });

  it('when the web app is not built, then non-API paths say so with 503', async () => {
    const r = await fetch(`${s.url}/`);
    expect(r.status).toBe(503);
  });

  it('when /metrics is scraped, then prometheus text comes back', async () => {
    const r = await fetch(`${s.url}/metrics`);
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/ac_http_requests_total/);
  });
});

describe('config for tests', () => {
  it('when two test configs are made, then their key prefixes differ', () => {
    expect(testConfig().REDIS_PREFIX).not.toBe(testConfig().REDIS_PREFIX);
  });
});
