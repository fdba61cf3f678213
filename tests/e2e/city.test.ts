import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { otpInbox, apiSignIn, hydrated, recordScripts } from './support.ts';
import { browserSession, cameraPhoto, PHONE } from './city-support.ts';
import { BUDGETS_KB } from '../../scripts/bundle-size.ts';

// One report's whole life in real Chromium against the real platform (server + worker, Redis, PostgreSQL):
// a resident on a phone files it with a photo, a moderator routes it from the live queue, the organisation
// answers with a photo, the resident disputes, the organisation answers again, the resident confirms, the
// points arrive and the board counts it. Each person has their own browser context (cookies, socket).
const ADMIN = '+79990001001';
const MODERATOR = '+79990001002';
const RESPONDER = '+79990001003';
const RESIDENT = '+79990001004';
const NEIGHBOUR = '+79990001005';
const CATEGORY = 'roof_leak';
const DISTRICT = 'arbat';
const ADDRESS = 'ул. Арбат, д. 10, подъезд 2';

describe('Our City in the browser: one report from filing to the board', () => {
  let platform: Platform;
  let browser: Browser;
  let inbox: Awaited<ReturnType<typeof otpInbox>>;
  let dataDir: string;
  let session: ReturnType<typeof browserSession>;
  const newPage: ReturnType<typeof browserSession>['newPage'] = (opts) => session.newPage(opts);
  const shot = (page: Page, name: string) => session.shot(page, name);
  const axe = (page: Page, name: string) => session.axe(page, name);
  const signIn = (page: Page, phone: string, js?: boolean) => session.signIn(page, phone, js);
  const userId: ReturnType<typeof browserSession>['userId'] = (phone, admin) => session.userId(phone, admin);
  let resident: Page;
  let moderator: Page;
  let responder: Page;
  let reportId = 0;
  let neighbourCookie = '';
  let organisationId = 0;

  /** The report page's status, as the server-rendered and live-updated page shows it. */
  const statusOf = (page: Page, status: string) => page.locator(`[data-testid="report-page"][data-report-id="${reportId}"][data-status="${status}"]`);

  beforeAll(async () => {
    inbox = await otpInbox();
    dataDir = mkdtempSync(join(tmpdir(), 'ac-e2e-city-'));
    platform = await startPlatform({
      OTP_SENDER: 'webhook',
      OTP_WEBHOOK_URL: inbox.url,
      ADMIN_PHONES: ADMIN,
      TICK_MS: '100',
      DATA_DIR: dataDir,
    });
    browser = await launchBrowser();
    session = browserSession(browser, platform.url, inbox);
  });
  afterAll(async () => {
    await session?.close();
    await browser?.close();
    await platform?.stop();
    await inbox?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('when staff sign in and the admin grants the moderator role and binds the responder to the proposed organisation, then their nav shows their pages', async () => {
    moderator = await newPage();
    responder = await newPage();
    await signIn(moderator, MODERATOR);
    await signIn(responder, RESPONDER);
    const admin = await apiSignIn(platform.url, ADMIN, inbox);
    const grant = await fetch(`${platform.url}/api/users/${await userId(MODERATOR, admin)}/roles`, { method: 'PUT', headers: admin.headers, body: JSON.stringify({ roles: ['resident', 'moderator'] }) });
    expect(grant.status).toBe(200);
    const proposal = await fetch(`${platform.url}/api/city/route-proposal?category=${CATEGORY}&district=${DISTRICT}`);
    expect(proposal.status).toBe(200);
    organisationId = ((await proposal.json()) as { organisation: { id: number } | null }).organisation?.id ?? 0;
    expect(organisationId).toBeGreaterThan(0);
    // the admin binds the responder to that organisation on the catalogue page
    const adminPage = await newPage();
    await signIn(adminPage, ADMIN);
    await adminPage.getByRole('navigation').getByRole('link', { name: 'Справочники города' }).click();
    await adminPage.waitForURL('**/city/admin');
    await adminPage.getByLabel('Номер пользователя').fill(String(await userId(RESPONDER, admin)));
    await adminPage.getByTestId('find-responder').click();
    await adminPage.getByLabel('Отвечает за организации').selectOption(String(organisationId));
    await adminPage.getByTestId('bind-responder').click();
    await adminPage.getByTestId('step-done').waitFor();
    await shot(adminPage, 'admin');
    await axe(adminPage, 'admin');

    await moderator.goto(`${platform.url}/`);
    await moderator.getByRole('navigation').getByRole('link', { name: 'Проверка сообщений' }).click();
    await moderator.waitForURL('**/city/moderate');
    // the queue is live from here on: the report filed below must appear without a reload
    await moderator.locator('[data-testid="queue-live"][data-status="connected"]').waitFor();
    await responder.goto(`${platform.url}/`);
    await responder.getByRole('navigation').getByRole('link', { name: 'Входящие организации' }).click();
    await responder.waitForURL('**/city/org');
    await expect(responder.getByTestId('report-card').count()).resolves.toBe(0);
  });

  it('when a resident on a phone files a report with a camera photo, then it opens with the photo and the moderator\'s queue shows it without a reload', async () => {
    resident = await newPage(PHONE);
    const scripts = recordScripts(resident);
    await signIn(resident, RESIDENT);
    await resident.goto(`${platform.url}/city`);
    await shot(resident, 'list-empty');
    await axe(resident, 'list');
    await resident.getByTestId('new-report').click();
    await resident.waitForURL('**/city/report/new');
    await hydrated(resident);
    const input = resident.getByTestId('photo-input');
    await expect(input.getAttribute('capture')).resolves.toBe('environment');
    await expect(input.getAttribute('accept')).resolves.toBe('image/*');
    await resident.getByLabel('Категория').selectOption(CATEGORY);
    await resident.getByLabel('Район').selectOption(DISTRICT);
    await resident.getByLabel(/^Адрес/).fill(ADDRESS);
    await resident.getByLabel(/^Описание/).fill('Во время капремонта крыши в подъезде течёт с потолка на пятом этаже, мокнет проводка.');
    await input.setInputFiles([await cameraPhoto('leak.jpg', '#557799')]);
    await resident.getByTestId('photo-previews').locator('img').first().waitFor();
    await shot(resident, 'new-report');
    await axe(resident, 'new-report');
    await resident.getByTestId('report-submit').click();
    await resident.waitForURL(/\/city\/reports\/\d+\?sent/);
    reportId = Number(new URL(resident.url()).pathname.split('/').pop());
    await resident.getByTestId('report-sent').waitFor();
    await statusOf(resident, 'submitted').waitFor();
    const img = resident.getByTestId('photos').locator('img');
    await expect(img.count()).resolves.toBe(1);
    // the thumbnail is served by the platform and really is an image
    // (waited for: on a loaded machine the page can be checked before the image has arrived)
    await resident.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.first().elementHandle(), { timeout: 15_000 });
    await resident.locator('[data-testid="report-page"][data-live="connected"]').waitFor();
    // what Chromium downloaded for sign-in, the list, the form and the report page (the city dictionary included)
    const js = await scripts.total();
    console.log(`city resident flow: ${js.files} JS files, ${(js.bytes / 1024).toFixed(1)} KB gzipped`);
    await shot(resident, 'report-submitted');
    await axe(resident, 'report');

    // the report page's JavaScript as Chromium downloads it on a first visit (what a notification's link opens;
    // the budget scripts/bundle-size.ts checks at build time)
    const visit = await newPage(PHONE);
    await visit.context().addCookies(await resident.context().cookies());
    const first = recordScripts(visit);
    await visit.goto(`${platform.url}/city/reports/${reportId}`);
    await hydrated(visit);
    await visit.locator('[data-testid="report-page"][data-live="connected"]').waitFor();
    const page1 = await first.total();
    console.log(`city report page, first visit: ${page1.files} JS files, ${(page1.bytes / 1024).toFixed(1)} KB gzipped`);
    expect(page1.bytes).toBeLessThanOrEqual(BUDGETS_KB['/city/reports/[id]']! * 1024);
    await visit.close();

    await moderator.locator(`[data-testid="report-card"][data-report-id="${reportId}"]`).waitFor({ timeout: 15_000 });
    await shot(moderator, 'moderate-queue');
    await axe(moderator, 'moderate-queue');
  });

  it('when a neighbour types the same place, then the form offers the open report before sending; without JavaScript the send gets the same offer, and supporting it counts', async () => {
    const page = await newPage({ ...PHONE, javaScriptEnabled: false });
    await signIn(page, NEIGHBOUR, false);
    neighbourCookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    // with JavaScript the offer comes while typing (GET /api/city/duplicates), nothing sent yet
    const live = await newPage(PHONE);
    await live.context().addCookies(await page.context().cookies());
    await live.goto(`${platform.url}/city/report/new`);
    await hydrated(live);
    await live.getByLabel('Категория').selectOption(CATEGORY);
    await live.getByLabel('Район').selectOption(DISTRICT);
    await live.getByLabel(/^Адрес/).fill(ADDRESS);
    await live.getByLabel(/^Адрес/).blur();
    await live.getByTestId('duplicate-offer').locator(`[data-testid="report-card"][data-report-id="${reportId}"]`).waitFor();
    await shot(live, 'duplicate-while-typing');
    await axe(live, 'duplicate-while-typing');

    await page.goto(`${platform.url}/city/report/new`);
    await page.getByLabel('Категория').selectOption(CATEGORY);
    await page.getByLabel('Район').selectOption(DISTRICT);
    await page.getByLabel(/^Адрес/).fill(ADDRESS);
    await page.getByLabel(/^Описание/).fill('С крыши течёт в подъезд, уже неделю мокрые стены.');
    await page.getByTestId('photo-input').setInputFiles([await cameraPhoto('same.jpg', '#775533')]);
    await page.getByTestId('report-submit').click();
    const offer = page.getByTestId('duplicate-offer');
    await offer.waitFor();
    await expect(offer.getByRole('link').getAttribute('href')).resolves.toBe(`/city/reports/${reportId}`);
    await shot(page, 'duplicate-offer');
    await offer.getByTestId('support-duplicate').click();
    await page.waitForURL(`**/city/reports/${reportId}`);
    await page.getByTestId('supported').waitFor();
    await expect(page.getByTestId('supporters').getAttribute('data-count')).resolves.toBe('1');
    // the resident's page shows the new supporter count too
    await resident.locator('[data-testid="supporters"][data-count="1"]').waitFor({ timeout: 15_000 });
  });

  it('when the moderator routes it to the proposed organisation, then the resident\'s open page and the organisation\'s inbox follow live', async () => {
    await moderator.locator(`[data-testid="report-card"][data-report-id="${reportId}"] a`).click();
    await moderator.waitForURL(`**/city/reports/${reportId}`);
    await hydrated(moderator);
    await expect(moderator.locator('#route-org').inputValue()).resolves.toBe(String(organisationId));
    await shot(moderator, 'moderate-report');
    await axe(moderator, 'moderate-report');
    await moderator.getByTestId('route').click();
    await statusOf(moderator, 'routed').waitFor();

    await statusOf(resident, 'routed').waitFor({ timeout: 15_000 });
    await resident.getByTestId('deadline').waitFor();
    await responder.locator(`[data-testid="report-card"][data-report-id="${reportId}"]`).waitFor({ timeout: 15_000 });
    await responder.locator(`[data-testid="report-card"][data-report-id="${reportId}"] [data-testid="deadline"]`).waitFor();
    // the countdown: routed just now, so the category's whole answer time in working days is left
    const { items } = (await (await fetch(`${platform.url}/api/city/categories`)).json()) as { items: { code: string; deadlineDays: number }[] };
    const days = items.find((c) => c.code === CATEGORY)!.deadlineDays;
    const left = responder.locator(`[data-testid="report-card"][data-report-id="${reportId}"] [data-testid="days-left"]`);
    await expect(left.getAttribute('data-days-left')).resolves.toBe(String(days));
    await expect(left.textContent()).resolves.toMatch(new RegExp(`\\b${days}\\b`));
    await shot(responder, 'org-inbox');
    await axe(responder, 'org-inbox');
  });

  /** Files a report through the API as the neighbour (multipart, as the form sends it); returns its id. */
  const fileAsNeighbour = async (address: string) => {
    const body = new FormData();
    for (const [k, v] of Object.entries({ category: 'yard', district: DISTRICT, address, description: 'Во дворе разбита лавочка, торчат гвозди.' })) body.append(k, v);
    const res = await fetch(`${platform.url}/api/city/reports`, { method: 'POST', headers: { cookie: neighbourCookie, origin: platform.url }, body });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: number }).id;
  };

  it('when the moderator rejects one report with a reason, merges one into an open report the panel offers and another into one by its number, then each closes with that step on its timeline', async () => {
    await moderator.goto(`${platform.url}/city/moderate`);
    await moderator.locator('[data-testid="queue-live"][data-status="connected"]').waitFor();
    const rejectId = await fileAsNeighbour('Арбат, 12, во дворе');
    const mergeId = await fileAsNeighbour('Арбат, 14, во дворе');
    const twinId = await fileAsNeighbour('Арбат, 14, двор');
    for (const id of [rejectId, mergeId, twinId]) await moderator.locator(`[data-testid="report-card"][data-report-id="${id}"]`).waitFor({ timeout: 15_000 });
    await moderator.goto(`${platform.url}/city/reports/${rejectId}`);
    await hydrated(moderator);
    await moderator.locator('summary', { hasText: 'Отклонить' }).click();
    await moderator.getByLabel('Причина').selectOption('not_city_property');
    await moderator.getByLabel('Пояснение для жителя').fill('Лавочка во дворе частного дома.');
    await moderator.getByTestId('reject').click();
    await moderator.locator(`[data-testid="report-page"][data-report-id="${rejectId}"][data-status="rejected"]`).waitFor();
    await expect(moderator.locator('[data-testid="timeline-step"][data-step="rejected"]').textContent()).resolves.toContain('объект не городской');

    // the twin: the panel offers the open reports of its category and district (the rejected one is not open)
    await moderator.goto(`${platform.url}/city/reports/${twinId}`);
    await hydrated(moderator);
    await moderator.locator('summary', { hasText: 'Объединить' }).click();
    const offered = await moderator.getByTestId('merge-candidate').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-report-id'))));
    expect(offered).toContain(mergeId);
    expect(offered).not.toContain(rejectId);
    expect(offered).not.toContain(twinId);
    await moderator.getByRole('button', { name: `Объединить с №${mergeId}` }).click();
    await moderator.locator(`[data-testid="report-page"][data-report-id="${twinId}"][data-status="merged"]`).waitFor();
    await expect(moderator.locator('[data-testid="timeline-step"][data-step="merged"] a').getAttribute('href')).resolves.toBe(`/city/reports/${mergeId}`);

    // any open report by its number: the other one into the resident's (another category)
    await moderator.goto(`${platform.url}/city/reports/${mergeId}`);
    await hydrated(moderator);
    await moderator.locator('summary', { hasText: 'Объединить' }).click();
    await moderator.getByLabel('Номер открытого сообщения').fill(String(reportId));
    await moderator.getByTestId('merge').click();
    await moderator.locator(`[data-testid="report-page"][data-report-id="${mergeId}"][data-status="merged"]`).waitFor();
    await expect(moderator.locator('[data-testid="timeline-step"][data-step="merged"] a').getAttribute('href')).resolves.toBe(`/city/reports/${reportId}`);
    await shot(moderator, 'merged');
    // all three left the live queue
    await moderator.goto(`${platform.url}/city/moderate`);
    await expect(moderator.locator([rejectId, mergeId, twinId].map((id) => `[data-testid="report-card"][data-report-id="${id}"]`).join(', ')).count()).resolves.toBe(0);
    // from the merged report to the open one inside the app (no new document): the page follows the new report live
    await moderator.goto(`${platform.url}/city/reports/${mergeId}`);
    await hydrated(moderator);
    await moderator.locator('[data-testid="timeline-step"][data-step="merged"] a').click();
    await statusOf(moderator, 'routed').waitFor();
  });

  const answer = async (text: string, withPhoto: boolean, name: string) => {
    await responder.goto(`${platform.url}/city/reports/${reportId}`);
    await hydrated(responder);
    await responder.getByLabel('Ответ жителю').fill(text);
    await responder.getByLabel('устранено').check();
    if (withPhoto) await responder.getByTestId('photo-input').setInputFiles([await cameraPhoto('after.jpg', '#337733')]);
    await shot(responder, name);
    await axe(responder, name);
    await responder.getByTestId('answer-send').click();
    await statusOf(responder, 'answered').waitFor();
  };

  it('when the organisation answers with a photo and the resident disputes, then the report goes back to the organisation with a new deadline', async () => {
    await answer('Кровлю над вторым подъездом залатали, потолок просушили.', true, 'answer-form');
    await statusOf(resident, 'answered').waitFor({ timeout: 15_000 });
    await statusOf(moderator, 'answered').waitFor({ timeout: 15_000 });
    await expect(resident.locator('[data-testid="timeline-step"][data-step="answered"] img').count()).resolves.toBe(1);
    await resident.getByTestId('verdict').waitFor();
    await shot(resident, 'verdict');
    await axe(resident, 'verdict');
    await resident.getByLabel('Что осталось не так').fill('После дождя снова капает в том же месте.');
    await resident.getByTestId('dispute').click();
    await statusOf(resident, 'routed').waitFor();
    await resident.locator('[data-testid="timeline-step"][data-step="disputed"]').waitFor();
  });

  it('when the organisation answers again and the resident confirms, then the report closes and the points are credited', async () => {
    await answer('Заменили участок кровли целиком, протечки больше нет.', false, 'answer-again');
    await statusOf(resident, 'answered').waitFor({ timeout: 15_000 });
    await resident.getByTestId('confirm').click();
    await statusOf(resident, 'closed').waitFor();
    await resident.getByTestId('points-credited').waitFor();
    const steps = await resident.locator('[data-testid="timeline-step"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    expect(steps.filter((s) => s !== 'reminded' && s !== 'escalated')).toEqual(['submitted', 'routed', 'answered', 'disputed', 'answered', 'confirmed']);
    await shot(resident, 'report-closed');

    await resident.goto(`${platform.url}/points`);
    await expect(resident.locator('tr', { hasText: `#${reportId}` }).textContent()).resolves.toContain('+20');
    await resident.goto(`${platform.url}/me/reports`);
    await resident.locator(`[data-testid="report-card"][data-report-id="${reportId}"][data-status="closed"]`).waitFor();
    // area alerts: follow the district (every category)
    await hydrated(resident);
    await resident.getByLabel('Районы').selectOption([DISTRICT, 'khamovniki']);
    await resident.getByTestId('alerts-save').click();
    await resident.getByTestId('alerts').getByTestId('step-done').waitFor();
    await resident.reload();
    await expect(resident.getByLabel('Районы').evaluate((el: HTMLSelectElement) => Array.from(el.selectedOptions, (o) => o.value).sort())).resolves.toEqual([DISTRICT, 'khamovniki']);
    await shot(resident, 'my-reports');
    await axe(resident, 'my-reports');
  });

  it('when anyone opens the board and the list, then the organisation and the district count the report, with charts, and axe finds nothing serious on any city page', async () => {
    const visitor = await newPage(PHONE);
    await visitor.goto(`${platform.url}/city/board`);
    const orgRow = visitor.locator(`[data-testid="board-row"][data-key="${organisationId}"]`);
    await expect(orgRow.getAttribute('data-received')).resolves.toBe('1');
    // both answers came well before the deadline: the whole bar of "answered on time"
    await expect(visitor.getByTestId('chart-ontime').locator(`g[data-key="${organisationId}"]`).getAttribute('data-value')).resolves.toBe('1');
    // shares are written by Intl in the page's language: "50 %" (no-break space) in Russian, "50%" in English;
    // one of the two answers was disputed
    await expect(orgRow.getByTestId('board-ontime').textContent()).resolves.toMatch(/^100[\u00a0\u202f]%$/);
    await expect(orgRow.getByTestId('board-disputed').textContent()).resolves.toMatch(/^50[\u00a0\u202f]%$/);
    await expect(visitor.getByTestId('chart-ontime').locator(`g[data-key="${organisationId}"] text.value`).textContent()).resolves.toMatch(/^100[\u00a0\u202f]%$/);
    await shot(visitor, 'board');
    await axe(visitor, 'board');
    await visitor.goto(`${platform.url}/city/board?by=district`);
    await expect(visitor.locator(`[data-testid="board-row"][data-key="${DISTRICT}"]`).getAttribute('data-received')).resolves.toBe('1');
    await visitor.goto(`${platform.url}/city/board?lang=en`);
    await expect(orgRow.getByTestId('board-disputed').textContent()).resolves.toBe('50%');

    await visitor.goto(`${platform.url}/city?district=${DISTRICT}&status=closed`);
    await visitor.locator(`[data-testid="report-card"][data-report-id="${reportId}"]`).waitFor();
    await visitor.goto(`${platform.url}/city/reports/${reportId}?lang=en`);
    await expect(visitor.locator('h1').textContent()).resolves.toBe('Roof leak');
    await expect(visitor.getByTestId('report-status').textContent()).resolves.toBe('closed');
    await shot(visitor, 'report-public-en');
    await axe(visitor, 'report-public-en');

    console.log('axe serious/critical violations per city page:', JSON.stringify(Object.fromEntries(Object.entries(session.axeReport).map(([k, v]) => [k, v.length]))));
    expect(Object.fromEntries(Object.entries(session.axeReport).filter(([, v]) => v.length))).toEqual({});
  });
});
