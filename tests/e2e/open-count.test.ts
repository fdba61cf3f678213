import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { launchBrowser, ARTIFACTS } from '../helpers/browser.ts';
import { until } from '../helpers/processes.ts';
import { otpInbox, apiSignIn, axeSerious, hydrated } from './support.ts';

// The open count in a real Chromium: a resident votes in the browser (the receipt stays in its
// localStorage), others vote through the API, the poll is closed and finalised by the real worker; then
// the integrity page, a recount in the browser (Web Crypto), find-my-ballot and the representativeness panel.
const ADMIN = '+79990001001';
const VOTER = '+79990001002';
const year = new Date().getUTCFullYear();

describe('open count (real Chromium against the real platform)', () => {
  let platform: Platform;
  let browser: Browser;
  let inbox: Awaited<ReturnType<typeof otpInbox>>;
  let admin: Awaited<ReturnType<typeof apiSignIn>>;
  const contexts: BrowserContext[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'ac-e2e-open-count-'));
  let pollId = 0;
  let voterPage: Page;
  let typedReceipt = '';
  /** The API voters of the first test (complete profiles in the Central okrug), for the second poll. */
  const apiVoters: Record<string, string>[] = [];

  const newPage = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: 'ru-RU' });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => {
      throw new Error(`page error on ${page.url()}: ${e.message}`);
    });
    return page;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `open-count-${name}.png`), fullPage: true });
  const api = (path: string, headers: Record<string, string>, method = 'GET', body?: unknown) =>
    fetch(`${platform.url}/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });

  beforeAll(async () => {
    inbox = await otpInbox();
    platform = await startPlatform({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: inbox.url, ADMIN_PHONES: ADMIN, TICK_MS: '100', DATA_DIR: dataDir, OTP_PER_IP_PER_HOUR: '1000' });
    browser = await launchBrowser();
    admin = await apiSignIn(platform.url, ADMIN, inbox);
    const created = await api('/polls', admin.headers, 'POST', {
      title: 'Что построить у пруда?',
      questions: [
        { id: 'q1', text: 'Что построить?', kind: 'single', options: [{ id: 'o1', label: 'Спортплощадку' }, { id: 'o2', label: 'Сцену' }, { id: 'o3', label: 'Кафе' }] },
        { id: 'q2', text: 'Что добавить?', kind: 'multi', options: [{ id: 'a', label: 'Скамейки' }, { id: 'b', label: 'Фонари' }] },
      ],
      opensAt: new Date(Date.now() - 1000).toISOString(),
      closesAt: new Date(Date.now() + 3_600_000).toISOString(),
      points: 5,
    });
    expect(created.status).toBe(201);
    pollId = ((await created.json()) as { id: number }).id;
    expect((await api(`/polls/${pollId}/publish`, admin.headers, 'POST')).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await platform?.stop();
    await inbox?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when a resident votes in the browser and others through the API, then the receipt stays in the browser and the integrity page is staff-only until the close', async () => {
    const me = await apiSignIn(platform.url, VOTER, inbox);
    expect((await api('/me', me.headers, 'PATCH', { district: 'arbat', birthYear: 1985, gender: 'female' })).status).toBe(200);
    voterPage = await newPage();
    await voterPage.context().addCookies(me.cookie.split('; ').map((c) => ({ name: c.split('=')[0], value: c.slice(c.indexOf('=') + 1), url: platform.url })));
    await voterPage.goto(`${platform.url}/polls/${pollId}`);
    await hydrated(voterPage);
    await voterPage.getByLabel('Сцену').check();
    await voterPage.getByTestId('next').click();
    await voterPage.getByLabel('Фонари').check();
    await voterPage.getByTestId('next').click();
    await voterPage.getByTestId('submit-vote').click();
    await voterPage.getByTestId('vote-thanks').waitFor();
    const stored = await voterPage.evaluate((id) => localStorage.getItem(`ac:receipt:${id}`), pollId);
    expect(stored).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // 13 more residents of the Central okrug vote through the API, most for the sports ground
    for (let i = 0; i < 13; i++) {
      const v = await apiSignIn(platform.url, `+7999000${String(1100 + i)}`, inbox);
      expect((await api('/me', v.headers, 'PATCH', { district: i % 2 ? 'arbat' : 'tverskoy', birthYear: year - 30 - (i % 3), gender: i % 3 ? 'female' : 'male' })).status).toBe(200);
      const r = await api(`/polls/${pollId}/ballots`, v.headers, 'POST', { answers: { q1: [i < 9 ? 'o1' : 'o3'], q2: ['a'] } });
      expect(r.status).toBe(201);
      if (i === 0) typedReceipt = ((await r.json()) as { receipt: string }).receipt;
      apiVoters.push(v.headers);
    }
    // refusals: a second ballot, an invalid one
    expect((await api(`/polls/${pollId}/ballots`, me.headers, 'POST', { answers: { q1: ['o1'], q2: ['a'] } })).status).toBe(409);
    expect((await api(`/polls/${pollId}/ballots`, me.headers, 'POST', { answers: { q1: ['o9'], q2: ['a'] } })).status).toBe(400);

    // while open: the resident gets the error page, the admin the live page
    const denied = await voterPage.goto(`${platform.url}/polls/${pollId}/integrity`);
    expect(denied?.status()).toBe(403);
    const staff = await newPage();
    await staff.context().addCookies(admin.cookie.split('; ').map((c) => ({ name: c.split('=')[0], value: c.slice(c.indexOf('=') + 1), url: platform.url })));
    await staff.goto(`${platform.url}/polls/${pollId}/integrity`);
    await staff.getByTestId('integrity-live').waitFor();
    await expect(staff.getByTestId('int-ballots').textContent()).resolves.toBe('14');
    // the moderator dashboard carries the panel too
    await staff.goto(`${platform.url}/moderate/${pollId}`);
    await staff.locator('[data-testid="panel-okrug"] tr[data-key="cao"]').waitFor();
    await shot(staff, 'moderator-panel');
  });

  it('when the poll is closed and finalised, then anyone sees the integrity page: counters, the check, points, the ledger hash (also on the poll page), and the panel', async () => {
    expect((await api(`/polls/${pollId}/close`, admin.headers, 'POST')).status).toBe(200);
    const late = await apiSignIn(platform.url, '+79990001199', inbox);
    expect((await api(`/polls/${pollId}/ballots`, late.headers, 'POST', { answers: { q1: ['o1'], q2: ['a'] } })).status).toBe(409);
    // finalised by the worker, and the invalid-ballot count flushed by the server
    await until(async () => {
      const r = (await (await api(`/polls/${pollId}/integrity`, {})).json()) as { live: boolean; refused: { invalid: number } };
      return !r.live && r.refused.invalid === 1;
    }, 60_000, 200);

    const page = await newPage(); // anonymous
    await page.goto(`${platform.url}/polls/${pollId}`);
    const hash = await page.getByTestId('poll-ledger-hash').textContent();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    await page.getByTestId('open-count-link').locator('a').click();
    await page.waitForURL(`**/polls/${pollId}/integrity`);
    await expect(page.getByTestId('ledger-hash').textContent()).resolves.toBe(hash);
    await expect(page.getByTestId('int-ballots').textContent()).resolves.toBe('14');
    await expect(page.getByTestId('int-duplicate').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('int-invalid').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('int-late').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('int-check').getAttribute('data-ok')).resolves.toBe('true');
    await expect(page.getByTestId('int-points').textContent()).resolves.toContain('14');
    await expect(page.getByTestId('tradeoff').textContent()).resolves.toContain('доказать');
    const values = (await page.getByTestId('sparkline').getAttribute('data-values'))!.split(',').map(Number);
    expect(values.reduce((s, v) => s + v, 0)).toBe(14);
    // the panel: 14 voters in the Central okrug, weighted against the registered residents
    await expect(page.locator('[data-testid="panel-okrug"] tr[data-key="cao"] td').first().textContent()).resolves.toBe('14');
    await page.getByTestId('panel-ess').waitFor();
    expect(await page.locator('[data-testid="panel-question"][data-question="q1"] tr[data-option="o1"] [data-raw]').textContent()).toContain('%');
    await shot(page, 'integrity');
    const serious = await axeSerious(page);
    expect(serious, JSON.stringify(serious)).toEqual([]);
  });

  it('when anyone recounts in the browser, then the SHA-256 and the tallies match; a tampered row makes it say mismatch', async () => {
    const page = await newPage();
    await page.goto(`${platform.url}/polls/${pollId}/integrity`);
    await hydrated(page);
    await page.getByTestId('recount').click();
    const ok = page.getByTestId('recount-result');
    await ok.waitFor();
    await expect(ok.getAttribute('data-ok')).resolves.toBe('true');
    await expect(ok.textContent()).resolves.toContain('14');

    const forged = await newPage();
    await forged.route(`**/api/polls/${pollId}/ledger.jsonl`, async (route) => {
      const res = await route.fetch();
      const lines = (await res.text()).split('\n');
      const i = lines.findIndex((l) => l.includes('"q1":["o1"]'));
      lines[i] = lines[i].replace('"q1":["o1"]', '"q1":["o2"]');
      await route.fulfill({ response: res, body: lines.join('\n') });
    });
    await forged.goto(`${platform.url}/polls/${pollId}/integrity`);
    await hydrated(forged);
    await forged.getByTestId('recount').click();
    const bad = forged.getByTestId('recount-result');
    await bad.waitFor();
    await expect(bad.getAttribute('data-ok')).resolves.toBe('false');
    const text = await bad.textContent();
    expect(text).toContain('SHA-256');
    expect(text).toContain('q1/o1');
    await shot(forged, 'recount-mismatch');
  });

  it('when the voter opens the integrity page, then their receipt is filled in from this browser and finds their ballot as cast; a typed-in receipt works elsewhere', async () => {
    await voterPage.goto(`${platform.url}/polls/${pollId}/integrity`);
    await hydrated(voterPage);
    await expect(voterPage.getByTestId('receipt').inputValue()).resolves.toMatch(/^[A-Za-z0-9_-]{22}$/);
    await voterPage.getByTestId('find-ballot').getByRole('button').click();
    const mine = voterPage.getByTestId('my-ballot');
    await mine.waitFor();
    await expect(mine.locator('li[data-question="q1"]').textContent()).resolves.toContain('Сцену');
    await expect(mine.locator('li[data-question="q2"]').textContent()).resolves.toContain('Фонари');
    await shot(voterPage, 'find-my-ballot');

    const other = await newPage();
    await other.goto(`${platform.url}/polls/${pollId}/integrity`);
    await hydrated(other);
    await expect(other.getByTestId('receipt').inputValue()).resolves.toBe('');
    await other.getByTestId('receipt').fill(typedReceipt);
    await other.getByTestId('find-ballot').getByRole('button').click();
    await expect(other.getByTestId('my-ballot').locator('li[data-question="q1"]').textContent()).resolves.toContain('Спортплощадку');
    await other.getByTestId('receipt').fill('not-a-receipt-of-this-poll');
    await other.getByTestId('find-ballot').getByRole('button').click();
    await other.getByTestId('my-ballot-missing').waitFor();
  });

  it('when a poll runs without a published ledger and one of its voters has an incomplete profile, then its integrity page says the ledger is off and the panel withholds the answers, saying why', async () => {
    const created = await api('/polls', admin.headers, 'POST', {
      title: 'Куда перенести остановку?',
      questions: [{ id: 'q1', text: 'Куда?', kind: 'single', options: [{ id: 'a', label: 'К школе' }, { id: 'b', label: 'К рынку' }] }],
      opensAt: new Date(Date.now() - 1000).toISOString(),
      closesAt: new Date(Date.now() + 3_600_000).toISOString(),
      points: 0,
      publicLedger: false,
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: number }).id;
    expect((await api(`/polls/${id}/publish`, admin.headers, 'POST')).status).toBe(200);
    // five complete profiles (the threshold) and one resident who never filled theirs
    for (const headers of apiVoters.slice(0, 5)) expect((await api(`/polls/${id}/ballots`, headers, 'POST', { answers: { q1: ['a'] } })).status).toBe(201);
    const bare = await apiSignIn(platform.url, '+79990001198', inbox);
    expect((await api(`/polls/${id}/ballots`, bare.headers, 'POST', { answers: { q1: ['b'] } })).status).toBe(201);
    expect((await api(`/polls/${id}/close`, admin.headers, 'POST')).status).toBe(200);
    await until(async () => !((await (await api(`/polls/${id}/integrity`, {})).json()) as { live: boolean }).live, 60_000, 200);

    const page = await newPage(); // anonymous
    await page.goto(`${platform.url}/polls/${id}/integrity`);
    await page.getByTestId('ledger-off').waitFor();
    expect(await page.getByTestId('ledger-hash').count()).toBe(0);
    const withheld = page.getByTestId('panel-withheld');
    await expect(withheld.getAttribute('data-reason')).resolves.toBe('incomplete_below_min_group');
    await expect(withheld.textContent()).resolves.toContain('порога анонимности');
    expect(await page.getByTestId('panel-question').count()).toBe(0);
    await shot(page, 'ledger-off-withheld');
  });
});
