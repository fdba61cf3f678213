import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { launchBrowser, ARTIFACTS } from '../helpers/browser.ts';
import { otpInbox, apiSignIn, axeSerious, recordScripts, hydrated, type AxeViolation } from './support.ts';

// One platform (OTP codes to a local webhook, an admin by phone) and one Chromium for the whole file;
// each person gets their own browser context (own cookies, own socket).
const ADMIN = '+79990000001';
const MODERATOR = '+79990000002';
const RESIDENT_A = '+79990000003';
const RESIDENT_B = '+79990000004';
const NO_JS = '+79990000005';
const OFFICIAL = '+79990000006';

describe('web app (real Chromium against the real platform)', () => {
  let platform: Platform;
  let browser: Browser;
  let inbox: Awaited<ReturnType<typeof otpInbox>>;
  const contexts: BrowserContext[] = [];
  const noJs = new WeakSet<Page>();
  const axeReport: Record<string, AxeViolation[]> = {};
  let pollId = 0;
  let residentA: Page;
  let noJsResident: Page;
  let moderator: Page;
  let official: Page;
  let admin: Awaited<ReturnType<typeof apiSignIn>>;

  const newPage = async (opts: { javaScriptEnabled?: boolean } = {}) => {
    const ctx = await browser.newContext({ viewport: { width: 414, height: 860 }, locale: 'ru-RU', ...opts });
    contexts.push(ctx);
    const page = await ctx.newPage();
    if (opts.javaScriptEnabled === false) noJs.add(page);
    page.on('pageerror', (e) => {
      throw new Error(`page error on ${page.url()}: ${e.message}`);
    });
    return page;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `web-${name}.png`), fullPage: true });
  const axe = async (page: Page, name: string) => {
    axeReport[name] = await axeSerious(page);
  };

  /** Sign in through the UI: phone → code from the webhook → redirected. */
  const signIn = async (page: Page, phone: string, name?: string) => {
    await page.goto(`${platform.url}/signin`);
    await page.getByLabel('Номер телефона').fill(phone);
    if (name) await shot(page, name);
    await page.getByTestId('send-code').click();
    const code = await inbox.code(phone);
    await page.getByLabel('Код из SMS').fill(code);
    await page.getByTestId('verify-code').click();
    await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  };

  const completeProfile = async (page: Page, district: string, birthYear: number) => {
    await page.goto(`${platform.url}/profile`);
    if (!noJs.has(page)) await hydrated(page);
    await page.getByLabel('Район').selectOption(district);
    await page.getByLabel('Год рождения').fill(String(birthYear));
    await page.getByLabel('женский').check();
    await page.getByTestId('profile-save').click();
    await page.getByTestId('profile-saved').waitFor();
  };

  beforeAll(async () => {
    inbox = await otpInbox();
    // totals show from the first ballot here (the anonymity threshold on totals: results-live.test.ts, polls.test.ts)
    platform = await startPlatform({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: inbox.url, ADMIN_PHONES: ADMIN, TICK_MS: '100', RESULTS_MIN_GROUP_SIZE: '1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await platform?.stop();
    await inbox?.close();
  });

  it('when a visitor opens the home page, then it is Russian, the socket connects, and English is one click away', async () => {
    const page = await newPage();
    await page.goto(platform.url + '/');
    await expect(page.locator('h1').textContent()).resolves.toContain('Активный гражданин');
    await page.locator('[data-testid="socket-status"][data-status="connected"]').waitFor();
    await shot(page, 'home');
    await axe(page, 'home');
    await page.getByTestId('lang-switch').click();
    await page.waitForURL(/lang=en/);
    await expect(page.locator('h1').textContent()).resolves.toContain('Active Citizen');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await page.goto(platform.url + '/polls'); // the cookie keeps English
    await expect(page.locator('h1').textContent()).resolves.toBe('Polls');
  });

  it('when JavaScript is off, then sign-in (phone → code) still works through the form actions', async () => {
    const page = (noJsResident = await newPage({ javaScriptEnabled: false }));
    await signIn(page, NO_JS);
    // a first sign-in with an empty profile lands on the profile form
    expect(new URL(page.url()).pathname).toBe('/profile');
    await completeProfile(page, 'arbat', 1990);
  });

  it('when someone types before the JavaScript has loaded, then hydration keeps what was typed (sign-in, profile)', async () => {
    const page = await newPage();
    // hold every JS module (not the CSS: it blocks rendering) until the fields are filled, as on a slow phone
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await page.route('**/_app/immutable/**/*.js', async (route) => {
      await gate;
      await route.continue();
    });
    await page.goto(`${platform.url}/signin`, { waitUntil: 'commit' });
    await page.getByLabel('Номер телефона').fill('+7 999 000-00-09');
    release();
    await hydrated(page);
    await expect(page.getByLabel('Номер телефона').inputValue()).resolves.toBe('+7 999 000-00-09');

    // the no-JS resident's session in a JavaScript context: edit the saved profile before hydration
    await page.context().addCookies(await noJsResident.context().cookies());
    let release2!: () => void;
    const gate2 = new Promise<void>((r) => (release2 = r));
    await page.unroute('**/_app/immutable/**/*.js');
    await page.route('**/_app/immutable/**/*.js', async (route) => {
      await gate2;
      await route.continue();
    });
    await page.goto(`${platform.url}/profile`, { waitUntil: 'commit' });
    await page.getByLabel('Год рождения').fill('1991');
    await page.getByLabel('мужской').check();
    release2();
    await hydrated(page);
    await expect(page.getByLabel('Год рождения').inputValue()).resolves.toBe('1991');
    await expect(page.getByLabel('мужской').isChecked()).resolves.toBe(true);
  });

  it('when a moderator builds a poll with the builder and publishes it, then it is live on the dashboard', async () => {
    // the moderator signs in in the browser; the admin (ADMIN_PHONES) grants the role through the API
    const page = (moderator = await newPage());
    await signIn(page, MODERATOR);
    admin = await apiSignIn(platform.url, ADMIN, inbox);
    const lookup = await fetch(`${platform.url}/api/users?phone=${encodeURIComponent(MODERATOR)}`, { headers: admin.headers });
    expect(lookup.status).toBe(200);
    const found = (await lookup.json()) as { user?: { id: number }; users?: { id: number }[] };
    const moderatorId = found.user?.id ?? found.users?.[0]?.id;
    const grant = await fetch(`${platform.url}/api/users/${moderatorId}/roles`, { method: 'PUT', headers: admin.headers, body: JSON.stringify({ roles: ['moderator'] }) });
    expect(grant.status).toBe(200);

    await page.goto(`${platform.url}/moderate/new`);
    await page.getByLabel('Название').fill('Где поставить новую детскую площадку?');
    await page.locator('#description').fill('Выберите место и оборудование. Итоги определят проект благоустройства.');
    await page.locator('#q0-text').fill('Где поставить площадку?');
    await page.locator('#q0-o0').fill('Во дворе на Арбате');
    await page.locator('#q0-o1').fill('В сквере у школы');
    await page.getByTestId('add-option').first().click();
    await page.locator('#q0-o2').fill('У библиотеки');
    await page.getByTestId('add-question').click();
    await page.locator('#q1-text').fill('Что на ней должно быть?');
    await page.locator('#q1-kind').selectOption('multi');
    await page.locator('#q1-o0').fill('Качели');
    await page.locator('#q1-o1').fill('Горка');
    // the preview follows the form
    await expect(page.getByTestId('builder-preview').textContent()).resolves.toContain('У библиотеки');
    await shot(page, 'moderator-builder');
    await axe(page, 'moderator-builder');
    await page.getByTestId('publish').click();
    await page.waitForURL(/\/moderate\/\d+\?published/);
    pollId = Number(new URL(page.url()).pathname.split('/').pop());
    expect(pollId).toBeGreaterThan(0);
    await page.getByTestId('published').waitFor();
    await page.locator('[data-testid="dash-status"]', { hasText: 'идёт' }).waitFor();
  });

  it('when a resident signs in and votes question by question, then the live chart moves when a second browser votes', async () => {
    residentA = await newPage();
    await signIn(residentA, RESIDENT_A, 'signin');
    await completeProfile(residentA, 'arbat', 1985);
    await shot(residentA, 'profile');
    await axe(residentA, 'profile');

    await residentA.goto(`${platform.url}/polls`);
    await residentA.locator(`[data-testid="poll-card"][data-poll-id="${pollId}"] a`).click();
    await residentA.waitForURL(`**/polls/${pollId}`);
    await residentA.getByTestId('voting-form').waitFor();
    await shot(residentA, 'poll-voting');
    await axe(residentA, 'poll-page');

    // validation: Next without a choice explains what is missing and stays on question 1
    await residentA.getByTestId('next').click();
    await expect(residentA.getByTestId('question-error').textContent()).resolves.toContain('Выберите вариант ответа');
    await residentA.getByLabel('В сквере у школы').check();
    await residentA.getByTestId('next').click();
    await residentA.getByLabel('Качели').check();
    await residentA.getByLabel('Горка').check();
    await residentA.getByTestId('next').click();
    await residentA.getByTestId('review').waitFor();
    await residentA.getByTestId('submit-vote').click();
    await residentA.getByTestId('vote-thanks').waitFor();
    await residentA.locator('[data-testid="poll-results"][data-ballots="1"]').waitFor();
    await shot(residentA, 'poll-results');

    // the poll page's JavaScript, as Chromium downloads it on a first visit (the budget scripts/bundle-size.ts checks)
    const visit = await newPage();
    await visit.context().addCookies(await residentA.context().cookies());
    const scripts = recordScripts(visit);
    await visit.goto(`${platform.url}/polls/${pollId}`);
    await hydrated(visit);
    await visit.locator('[data-testid="poll-page"][data-live="on"]').waitFor();
    const js = await scripts.total();
    console.log(`poll page, first visit: ${js.files} JS files, ${(js.bytes / 1024).toFixed(1)} KB gzipped`);
    expect(js.bytes).toBeLessThanOrEqual(64 * 1024);

    // a second resident in another browser context votes; A's chart changes without a reload
    const b = await newPage();
    await signIn(b, RESIDENT_B);
    await completeProfile(b, 'tverskoy', 2001);
    await b.goto(`${platform.url}/polls/${pollId}`);
    await b.getByLabel('В сквере у школы').check();
    await b.getByTestId('next').click();
    await b.getByLabel('Горка').check();
    await b.getByTestId('next').click();
    await b.getByTestId('submit-vote').click();
    await b.getByTestId('vote-thanks').waitFor();

    await residentA.locator('[data-testid="poll-results"][data-ballots="2"]').waitFor({ timeout: 10_000 });
    const chart = residentA.getByTestId('results-chart').first();
    await expect(chart.locator('[data-option="o2"]').getAttribute('data-count')).resolves.toBe('2');
    await shot(residentA, 'poll-results-live');
  });

  it('when the moderator watches the dashboard, then tallies and breakdowns show, and closing early closes the poll for the resident', async () => {
    const page = moderator;
    await page.goto(`${platform.url}/moderate/${pollId}`);
    await page.locator('[data-testid="dash-ballots"]', { hasText: '2' }).waitFor();
    await page.getByTestId('by-age').waitFor();
    await shot(page, 'moderator-dashboard');
    await axe(page, 'moderator-dashboard');

    const projector = await newPage();
    await projector.setViewportSize({ width: 1600, height: 900 });
    await projector.goto(`${platform.url}/live/${pollId}`);
    await projector.getByTestId('projector').locator('svg').first().waitFor();
    await shot(projector, 'projector');
    await axe(projector, 'projector');

    await page.locator('summary', { hasText: 'Завершить досрочно' }).click();
    await page.getByTestId('close-early').click();
    await page.locator('[data-testid="dash-status"]', { hasText: /завершён|итоги подведены/ }).waitFor();
    // the resident's open page hears poll:status (closed, and soon after finalised: the worker is quick)
    await residentA.locator('[data-testid="poll-status"]', { hasText: /завершён|итоги подведены/ }).waitFor({ timeout: 10_000 });
  });

  it('when an admin grants the official role on /admin without JavaScript, then that user gets the officials\' pages', async () => {
    official = await newPage();
    await signIn(official, OFFICIAL);
    expect((await official.goto(`${platform.url}/official`))?.status()).toBe(403);
    expect((await official.goto(`${platform.url}/admin`))?.status()).toBe(403);

    // the admin (ADMIN_PHONES) signs in with JavaScript off: the lookup is a GET form, the roles a form action
    const page = await newPage({ javaScriptEnabled: false });
    await signIn(page, ADMIN);
    await page.getByRole('navigation').getByRole('link', { name: 'Администрирование' }).click();
    await page.waitForURL('**/admin');
    await page.getByLabel('Телефон или номер пользователя').fill('+7 999 000-00-99');
    await page.getByTestId('admin-find').click();
    await expect(page.getByTestId('admin-lookup-error').textContent()).resolves.toBe('Пользователь не найден.');
    await page.getByLabel('Телефон или номер пользователя').fill('+7 999 000-00-06');
    await page.getByTestId('admin-find').click();
    const user = page.getByTestId('admin-user');
    await expect(user.getAttribute('data-roles')).resolves.toBe('resident');
    await page.getByLabel('представитель мэрии').check();
    await page.getByTestId('admin-save-roles').click();
    await expect(page.getByTestId('admin-saved').textContent()).resolves.toContain('представитель мэрии');
    await expect(user.getAttribute('data-roles')).resolves.toBe('resident official');
    await expect(page.getByTestId('admin-queues').getAttribute('href')).resolves.toBe('/admin/queues');
    await shot(page, 'admin');
    // axe needs script: the same admin session in a JavaScript context
    const withJs = await newPage();
    await withJs.context().addCookies(await page.context().cookies());
    await withJs.goto(`${platform.url}/admin?q=${encodeURIComponent(OFFICIAL)}`);
    await withJs.getByTestId('admin-user').waitFor();
    await axe(withJs, 'admin');
    // the admin strings are an area dictionary merged in by /admin only; English has them too
    await withJs.goto(`${platform.url}/admin?lang=en`);
    await expect(withJs.locator('h1').textContent()).resolves.toBe('Administration');
    await expect(withJs.getByTestId('admin-queues').textContent()).resolves.toBe('Job queues (bull-board)');

    // the role applies on the official's next request: the nav shows "Решения" and /official opens
    await official.goto(`${platform.url}/`);
    await official.getByRole('navigation').getByRole('link', { name: 'Решения' }).click();
    await official.waitForURL('**/official');
    await expect(official.locator('h1').textContent()).resolves.toBe('Ожидают решения');
  });

  it('when an official publishes a decision and moves it on, then the resident\'s badge lights up live, the inbox lists it and the poll shows the timeline', async () => {
    // closed early by the moderator; the real worker finalises it and the resident's open page hears it
    await residentA.locator('[data-testid="poll-status"]', { hasText: 'итоги подведены' }).waitFor({ timeout: 15_000 });
    await expect(residentA.getByTestId('unread-badge').count()).resolves.toBe(0);

    await official.goto(`${platform.url}/official`);
    const item = official.locator(`[data-testid="waiting-item"][data-poll-id="${pollId}"]`);
    await expect(item.getByTestId('answer-deadline').textContent()).resolves.toMatch(/^Срок ответа: \d+ \S+/);
    await expect(item.textContent()).resolves.toContain('Осталось рабочих дней');
    await shot(official, 'official-queue');
    await axe(official, 'official');

    await item.getByRole('link').click();
    await official.waitForURL(`**/official/${pollId}`);
    await official.getByLabel('Текст решения').fill('Площадку поставят в сквере у школы');
    await official.getByLabel('Подробности').fill('Большинство жителей выбрали сквер у школы.\nКачели и горка войдут в проект; работы начнутся весной.');
    await shot(official, 'decision-editor');
    await axe(official, 'official-decision');
    await official.getByTestId('publish-decision').click();
    await expect(official.getByTestId('decision-done').textContent()).resolves.toBe('Решение опубликовано.');
    // the resident's page (open since the vote, never reloaded) hears the notification on its socket
    await residentA.locator('[data-testid="unread-badge"][data-count="1"]').waitFor({ timeout: 10_000 });

    await official.getByLabel('выполняется').check();
    await official.getByLabel('Комментарий / Причина отказа').fill('Подрядчик выбран, проект согласован.');
    await official.getByTestId('decision-step').click();
    await official.getByTestId('decision-done').filter({ hasText: 'Статус обновлён.' }).waitFor();
    await official.getByTestId('decision-status').filter({ hasText: 'выполняется' }).waitFor();
    await residentA.locator('[data-testid="unread-badge"][data-count="2"]').waitFor({ timeout: 10_000 });
    expect(new URL(residentA.url()).pathname).toBe(`/polls/${pollId}`);

    await residentA.getByTestId('notifications-link').click();
    await residentA.waitForURL('**/notifications');
    await expect(residentA.getByTestId('notification').count()).resolves.toBe(2);
    const list = residentA.getByTestId('notification-list');
    await expect(list.textContent()).resolves.toContain('Площадку поставят в сквере у школы');
    // worded in the page's language (the stored title is English)
    await expect(list.locator('h2').allTextContents()).resolves.toEqual([
      'Решение по опросу «Где поставить новую детскую площадку?» выполняется',
      'Город принял решение по опросу «Где поставить новую детскую площадку?»',
    ]);
    await shot(residentA, 'resident-inbox');
    // viewing the inbox marks them read: the badge goes out by itself, the "new" marks stay for this visit
    await residentA.getByTestId('mark-read').waitFor({ state: 'detached' });
    await residentA.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await expect(residentA.locator('[data-testid="notification"].unread').count()).resolves.toBe(2);

    await residentA.getByRole('link', { name: 'Открыть опрос' }).first().click();
    await residentA.waitForURL(`**/polls/${pollId}`);
    // closed early today: the page shows when voting actually ended, not the planned closesAt
    const today = new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', timeZone: 'Europe/Moscow' }).format(new Date());
    await expect(residentA.getByTestId('poll-page').locator('header').textContent()).resolves.toContain(`Завершён ${today}`);
    const decision = residentA.getByTestId('decision');
    await expect(decision.getByTestId('decision-status').textContent()).resolves.toBe('выполняется');
    await expect(decision.locator('.timeline li').allTextContents()).resolves.toEqual([
      expect.stringContaining('принято решение'),
      expect.stringMatching(/выполняется.*Подрядчик выбран/),
    ]);
    await shot(residentA, 'decision-timeline');
  });

  it('when the worker has awarded the vote, then the points page shows it, and redeeming a reward drops the balance and lists the redemption', async () => {
    await residentA.goto(`${platform.url}/points`);
    // 50 for completing the profile, 10 for the vote (the builder's default reward)
    await expect(residentA.getByTestId('points-balance').textContent()).resolves.toBe('60');
    // the vote's entry names the poll by its title, after a space
    await expect(residentA.locator('tr', { hasText: 'участие в опросе — Где поставить новую детскую площадку?' }).textContent()).resolves.toContain('+10');

    const created = await fetch(`${platform.url}/api/rewards`, {
      method: 'POST',
      headers: admin.headers,
      body: JSON.stringify({ name: 'Билет в парк «Зарядье»', description: 'Экскурсия по парящему мосту', price: 40, stock: 3 }),
    });
    expect(created.status).toBe(201);
    const { reward } = (await created.json()) as { reward: { id: number } };

    await residentA.getByRole('navigation').getByRole('link', { name: 'Магазин' }).click();
    await residentA.waitForURL('**/rewards');
    await expect(residentA.getByTestId('rewards-balance').textContent()).resolves.toBe('У вас 60 баллов');
    await residentA.locator(`[data-testid="reward"][data-reward-id="${reward.id}"]`).getByRole('button', { name: /Получить/ }).click();
    await residentA.getByTestId('redeem-yes').click(); // spent only once confirmed
    await expect(residentA.getByTestId('redeemed').textContent()).resolves.toMatch(/^Готово! Код: AC-\w{4}-\w{4}$/);
    await residentA.getByTestId('rewards-balance').filter({ hasText: 'У вас 20 баллов' }).waitFor();
    await expect(residentA.getByTestId('my-redemptions').textContent()).resolves.toMatch(/Билет в парк «Зарядье».*готово.*AC-/);
    await shot(residentA, 'rewards-redeemed');
  });

  it('when a resident opens the other main pages, then they render and axe finds no serious violations anywhere', async () => {
    for (const [name, path] of [['feed', '/polls?tab=results'], ['points', '/points'], ['rewards', '/rewards'], ['archive', '/archive'], ['notifications', '/notifications']] as const) {
      const res = await residentA.goto(platform.url + path);
      expect(res?.status(), path).toBe(200);
      await shot(residentA, name);
      await axe(residentA, name);
    }
    const signin = await newPage();
    await signin.goto(`${platform.url}/signin`);
    await axe(signin, 'signin');
    console.log('axe serious/critical violations per page:', JSON.stringify(Object.fromEntries(Object.entries(axeReport).map(([k, v]) => [k, v.length]))));
    expect(Object.fromEntries(Object.entries(axeReport).filter(([, v]) => v.length))).toEqual({});
  });
});
