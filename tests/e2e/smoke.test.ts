import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { launchBrowser, ARTIFACTS } from '../helpers/browser.ts';

describe('smoke (real Chromium against the real platform)', () => {
  let platform: Platform;
  let browser: Browser;
  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('when the home page is opened, then it renders in Russian and a Socket.IO connection is established', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const res = await page.goto(platform.url + '/');
    expect(res?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toContain('Активный гражданин');
    await page.locator('[data-testid="socket-status"][data-status="connected"]').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'home.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
