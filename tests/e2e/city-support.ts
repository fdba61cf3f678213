// The browser harness of the Our City e2e test: people as browser contexts (own cookies and socket), UI
// sign-in through the OTP webhook, screenshots and axe results collected per page, and phone-camera photos.
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS } from '../helpers/browser.ts';
import { axeSerious, hydrated, type apiSignIn, type AxeViolation, type otpInbox } from './support.ts';

/** A phone as the resident holds it (iPhone 12-14 size, touch). */
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** A real photo as a phone camera sends it: a noisy 1600×1200 JPEG of about a megabyte. */
export async function cameraPhoto(name: string, colour: string) {
  const buffer = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: colour, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality: 80 })
    .toBuffer();
  return { name, mimeType: 'image/jpeg', buffer };
}

export function browserSession(browser: Browser, base: string, inbox: Awaited<ReturnType<typeof otpInbox>>) {
  const contexts: BrowserContext[] = [];
  const axeReport: Record<string, AxeViolation[]> = {};
  return {
    axeReport,
    /** A new person (desktop by default); a script error on any of their pages fails the test. */
    async newPage(opts: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ru-RU', ...opts });
      contexts.push(ctx);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => {
        throw new Error(`page error on ${page.url()}: ${e.message}`);
      });
      return page;
    },
    shot: (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `city-${name}.png`), fullPage: true }),
    async axe(page: Page, name: string) {
      axeReport[name] = await axeSerious(page);
    },
    /** Phone → code from the webhook → signed in; `js: false` for a context without JavaScript (no hydration to wait for). */
    async signIn(page: Page, phone: string, js = true) {
      await page.goto(`${base}/signin`);
      if (js) await hydrated(page);
      await page.getByLabel('Номер телефона').fill(phone);
      await page.getByTestId('send-code').click();
      const code = await inbox.code(phone);
      await page.getByLabel('Код из SMS').fill(code);
      await page.getByTestId('verify-code').click();
      await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
    },
    async userId(phone: string, admin: Awaited<ReturnType<typeof apiSignIn>>): Promise<number> {
      const r = await fetch(`${base}/api/users?phone=${encodeURIComponent(phone)}`, { headers: admin.headers });
      const found = (await r.json()) as { user?: { id: number }; users?: { id: number }[] };
      return found.user?.id ?? found.users?.[0]?.id ?? 0;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
    },
  };
}
