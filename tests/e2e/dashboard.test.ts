import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import type { Platform } from '../helpers/platform.ts';
import { otpInbox, hydrated } from './support.ts';
import { pageKit } from './pages.ts';
import { actor, api, livePoll, staff, vote, startStack, type Actor } from './actors.ts';

// The moderator's dashboard tells the truth: turnout against the residents eligible to vote (live with the
// ballots), the real end after an early close, a final label, notes that do not stick — in real Chromium at
// a desktop and a phone size. People and polls are made through the API; what is checked is what shows.
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800, districts: { main: 'arbat', single: 'yakimanka' } },
  { name: 'phone', width: 390, height: 844, districts: { main: 'presnensky', single: 'tagansky' } },
] as const;
const ADMIN = '+79960000001';
const NBSP = '\u00a0';
const year = new Date().getUTCFullYear();
const moscowDay = (ms: number) => new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', timeZone: 'Europe/Moscow' }).format(new Date(ms));

describe('the moderator dashboard: turnout of the eligible, real end, final label (real Chromium, desktop and phone)', () => {
  let platform: Platform;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let inbox: Awaited<ReturnType<typeof otpInbox>>;
  let admin: Actor;
  let moderator: Actor;
  const kit = pageKit('dashboard');
  const { newPage, shot, axe, errors } = kit;
  let seq = 100;
  const phone = () => `+7996${String(seq++).padStart(7, '0')}`;

  const draft = (title: string, districts: string[]) =>
    api<{ id: number }>(moderator, 'POST', '/polls', {
      title,
      opensAt: new Date(Date.now() - 1000).toISOString(),
      closesAt: new Date(Date.now() + 24 * 3600_000).toISOString(),
      points: 0,
      audience: { districts, minAge: 30, maxAge: 60 },
      questions: [{ id: 'q1', text: 'Нужен ли новый сквер?', kind: 'single', options: [{ id: 'y', label: 'Да' }, { id: 'n', label: 'Нет' }] }],
    });
  const turnout = (page: Page) => page.getByTestId('dash-turnout');

  beforeAll(async () => {
    stack = await startStack(ADMIN, { RESULTS_MIN_GROUP_SIZE: '1' });
    ({ platform, inbox, admin } = stack);
    moderator = await staff(platform.url, phone(), inbox, admin, ['moderator']);
  });
  afterAll(async () => {
    await kit.close();
    await stack?.stop();
  });

  for (const vp of VIEWPORTS) {
    describe(`at ${vp.name} size (${vp.width}×${vp.height})`, () => {
      it('when residents of a targeted poll vote, then the dashboard shows turnout as a share of the residents eligible to vote, live and per locale; an early close shows the real end, finalising a final label, and the published note does not come back', async () => {
        const { main, single } = vp.districts;
        // four eligible (district and age 30-60), three not: another district, too young, too old
        const eligible = await Promise.all([31, 40, 45, 60].map((age) => actor(platform.url, phone(), inbox, { district: main, birthYear: year - age })));
        await actor(platform.url, phone(), inbox, { district: 'sokol', birthYear: year - 40 });
        await actor(platform.url, phone(), inbox, { district: main, birthYear: year - 29 });
        await actor(platform.url, phone(), inbox, { district: main, birthYear: year - 61 });
        const { id: pollId } = await draft(`Сквер у дома (${vp.name})`, [main]);

        // published from the dashboard itself; the note is for this visit only
        const page = await newPage(vp, moderator);
        await page.goto(`${platform.url}/moderate/${pollId}`);
        await hydrated(page);
        await page.getByTestId('publish-draft').click();
        await page.getByTestId('published').waitFor();
        await page.locator('[data-testid="dash-status"]', { hasText: 'идёт' }).waitFor();
        await expect(turnout(page).textContent()).resolves.toBe(`Явка: 0${NBSP}% от 4 жителей, имеющих право голоса`);
        await page.waitForURL((u) => u.search === '');
        await page.reload();
        await hydrated(page);
        await expect(page.getByTestId('published').count()).resolves.toBe(0);

        // ballots move the share live, without a reload
        await vote(eligible[0], pollId, { q1: ['y'] });
        await page.locator('[data-testid="dash-ballots"]', { hasText: '1' }).waitFor({ timeout: 10_000 });
        await expect(turnout(page).textContent()).resolves.toBe(`Явка: 25${NBSP}% от 4 жителей, имеющих право голоса`);
        await vote(eligible[1], pollId, { q1: ['n'] });
        await vote(eligible[2], pollId, { q1: ['y'] });
        await turnout(page).filter({ hasText: `Явка: 75${NBSP}% от 4 жителей` }).waitFor({ timeout: 10_000 });
        await shot(page, `turnout-${vp.name}`);
        await axe(page, `turnout-${vp.name}`);

        // a resident who moves into the district joins the base: the next page load counts them
        const newcomer = await actor(platform.url, phone(), inbox, { district: 'sokol', birthYear: year - 50 });
        await api(newcomer, 'PATCH', '/me', { district: main });
        await page.reload();
        await expect(turnout(page).textContent()).resolves.toBe(`Явка: 60${NBSP}% от 5 жителей, имеющих право голоса`);
        await expect(turnout(page).getAttribute('data-eligible')).resolves.toBe('5');

        // English: the same figure in English number format
        const en = await newPage(vp, moderator);
        await en.goto(`${platform.url}/moderate/${pollId}?lang=en`);
        await expect(turnout(en).textContent()).resolves.toBe('Turnout: 60% of 5 eligible residents');
        await shot(en, `turnout-en-${vp.name}`);

        // closed early today: the real end, not the planned one (tomorrow); then finalised, labelled final
        await page.locator('summary', { hasText: 'Завершить досрочно' }).click();
        await page.getByTestId('close-early').click();
        await page.getByTestId('dash-ended').waitFor();
        await expect(page.getByTestId('dash-ended').textContent()).resolves.toContain(`Завершён ${moscowDay(Date.now())}`);
        expect(await page.getByTestId('dash-ended').textContent()).not.toContain(moscowDay(Date.now() + 24 * 3600_000));
        await page.getByTestId('dash-final').waitFor({ timeout: 15_000 });
        await page.reload();
        await page.getByTestId('dash-final').waitFor();
        await expect(page.getByTestId('dash-ended').textContent()).resolves.toContain(`Завершён ${moscowDay(Date.now())}`);
        await expect(turnout(page).textContent()).resolves.toBe(`Явка: 60${NBSP}% от 5 жителей, имеющих право голоса`);
        await expect(page.getByTestId('published').count()).resolves.toBe(0);
        await shot(page, `final-${vp.name}`);
        await axe(page, `final-${vp.name}`);

        // one eligible resident: the singular; nobody eligible: a dash and the reason
        await actor(platform.url, phone(), inbox, { district: single, birthYear: year - 35 });
        const one = await draft(`Одна улица (${vp.name})`, [single]);
        await api(moderator, 'POST', `/polls/${one.id}/publish`);
        await page.goto(`${platform.url}/moderate/${one.id}`);
        await expect(turnout(page).textContent()).resolves.toBe(`Явка: 0${NBSP}% от 1 жителя, имеющего право голоса`);
        const none = await draft(`Новый посёлок (${vp.name})`, ['kurkino']);
        await api(moderator, 'POST', `/polls/${none.id}/publish`);
        await page.goto(`${platform.url}/moderate/${none.id}`);
        await expect(turnout(page).textContent()).resolves.toBe('Явка: — (ни один зарегистрированный житель пока не подходит под условия опроса)');
        await shot(page, `no-eligible-${vp.name}`);
        await axe(page, `no-eligible-${vp.name}`);
        expect(errors).toEqual([]);
      });
    });
  }

  it('when a resident is made a moderator while a poll page is open, then the page loads its data again by itself: the results and the staff links show, with no reload', async () => {
    const me = await actor(platform.url, phone(), inbox);
    const pollId = await livePoll(moderator, { title: 'Новые роли на открытой странице', questions: [{ id: 'q1', text: 'Нужна ли велодорожка?', kind: 'single', options: [{ id: 'y', label: 'Да' }, { id: 'n', label: 'Нет' }] }] });
    for (let i = 0; i < 2; i++) await vote(await actor(platform.url, phone(), inbox), pollId, { q1: ['y'] });
    const page = await newPage(VIEWPORTS[0], me);
    await page.goto(`${platform.url}/polls/${pollId}`);
    await hydrated(page);
    await page.locator('[data-testid="poll-page"][data-live="on"]').waitFor();
    await page.getByTestId('results-hidden').waitFor();
    await expect(page.locator('a[href="/moderate"]').count()).resolves.toBe(0);
    const documents: string[] = [];
    page.on('framenavigated', (f) => void (f === page.mainFrame() && documents.push(f.url())));

    await api(admin, 'PUT', `/users/${me.user.id}/roles`, { roles: ['resident', 'moderator'] });
    await page.locator('a[href="/moderate"]').first().waitFor({ timeout: 15_000 });
    await page.getByTestId('results-hidden').waitFor({ state: 'detached' });
    await expect(page.locator('[data-testid="poll-page"]').textContent()).resolves.toMatch(/100/);
    expect(documents, 'no navigation: the same document loaded its data again').toEqual([]);
    await shot(page, 'role-granted-live');
    expect(errors).toEqual([]);
  });

  it('when every page above was checked, then axe found no serious or critical violations', () => {
    kit.expectAxeClean();
  });
});
