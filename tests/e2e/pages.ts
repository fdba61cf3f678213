import { expect } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser } from '../helpers/browser.ts';
import { axeSerious, type AxeViolation } from './support.ts';
import { useSession, type Actor } from './actors.ts';

/**
 * The pages of one e2e file, in one Chromium the kit launches with its first page: each in a browser context of its own (so sessions never mix), closed by
 * `close`; page errors and console errors of every page gathered in `errors` (a test ends by expecting
 * none); `close` closes the contexts and the browser; screenshots as test-results/<prefix>-<name>.png; axe's serious findings per page in `axeReport`,
 * checked at the end by `expectAxeClean`.
 */
export function pageKit(prefix: string) {
  let browser: Promise<Browser> | null = null;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];
  const axeReport: Record<string, AxeViolation[]> = {};
  return {
    errors,
    axeReport,
    /** A Russian-locale page of this size, signed in as `who` on `base` when given. */
    async newPage(size: { width: number; height: number }, who?: Actor, base = who?.base): Promise<Page> {
      const ctx = await (await (browser ??= launchBrowser())).newContext({ viewport: { width: size.width, height: size.height }, locale: 'ru-RU' });
      contexts.push(ctx);
      if (who) await useSession(ctx, who, base!);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${page.url()}: console: ${m.text()}`);
      });
      return page;
    },
    shot: (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${prefix}-${name}.png`), fullPage: true }),
    axe: async (page: Page, name: string) => void (axeReport[name] = await axeSerious(page)),
    /** Every page checked with `axe` had no serious or critical violation (and some page was checked). */
    expectAxeClean: () => {
      console.log('axe serious/critical violations per page:', JSON.stringify(Object.fromEntries(Object.entries(axeReport).map(([k, v]) => [k, v.length]))));
      expect(Object.keys(axeReport).length).toBeGreaterThan(0);
      expect(Object.fromEntries(Object.entries(axeReport).filter(([, v]) => v.length))).toEqual({});
    },
    close: async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await (await browser?.catch(() => null))?.close();
    },
  };
}
