import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import type { Platform } from '../helpers/platform.ts';
import { until } from '../helpers/processes.ts';
import { freePort } from '../../server/redis/redis-server.ts';
import { otpInbox, hydrated } from './support.ts';
import { pageKit } from './pages.ts';
import { actor, api, flakyProxy, livePoll, staff, vote, startStack, type Actor } from './actors.ts';

// Results that read right, live views that catch up by themselves, and the socket's recovery, in real
// Chromium at a desktop and a phone size. People and polls are made through the API; what is checked is
// what a person sees. Small groups merge at 2 here (RESULTS_MIN_GROUP_SIZE) to keep the crowd small.
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const ADMIN = '+79980000001';
const NBSP = '\u00a0';
const today = () => new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', timeZone: 'Europe/Moscow' }).format(new Date());
const tomorrow = () => new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', timeZone: 'Europe/Moscow' }).format(new Date(Date.now() + 24 * 3600_000));

describe('results, live catch-up and socket recovery (real Chromium, desktop and phone)', () => {
  let platform: Platform;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let inbox: Awaited<ReturnType<typeof otpInbox>>;
  let proxy: Awaited<ReturnType<typeof flakyProxy>>;
  let proxied: string;
  let admin: Actor;
  let moderator: Actor;
  let official: Actor;
  const kit = pageKit('results-live');
  const { newPage, shot, axe, errors } = kit;
  let phoneSeq = 100;
  const phone = () => `+7998${String(phoneSeq++).padStart(7, '0')}`;

  const shareTexts = (chart: ReturnType<Page['getByTestId']>) => chart.getByTestId('share').allTextContents();

  beforeAll(async () => {
    proxy = await flakyProxy();
    const port = await freePort();
    proxy.target(port);
    proxied = `http://localhost:${proxy.port}`;
    stack = await startStack(ADMIN, {
      PORT: String(port),
      RESULTS_MIN_GROUP_SIZE: '2',
      ALLOWED_ORIGINS: `http://localhost:${port},http://127.0.0.1:${port},${proxied}`,
    });
    ({ platform, inbox, admin } = stack);
    moderator = await staff(platform.url, phone(), inbox, admin, ['moderator']);
    official = await staff(platform.url, phone(), inbox, admin, ['official']);
  });
  afterAll(async () => {
    await kit.close();
    await stack?.stop();
    await proxy?.close();
  });

  for (const vp of VIEWPORTS) {
    describe(`at ${vp.name} size (${vp.width}×${vp.height})`, () => {
      it('when four residents answer a multi-choice question, then each option shows its share of those who answered (bars of 100), single-choice shares add up to exactly 100, the voter sees their own answer, the projector and dashboard agree, totals wait for the anonymity threshold, and a signed-in non-voter\'s projector follows the votes', async () => {
        const pollId = await livePoll(moderator, {
          title: `Благоустройство сквера (${vp.name})`,
          publicLive: true,
          questions: [
            { id: 'q1', text: 'Где поставить сцену?', kind: 'single', required: false, options: [{ id: 'n', label: 'Север' }, { id: 's', label: 'Юг' }, { id: 'e', label: 'Восток' }] },
            {
              id: 'q2',
              text: 'Что нужно скверу?',
              kind: 'multi',
              options: [{ id: 'light', label: 'Освещение' }, { id: 'bench', label: 'Скамейки' }, { id: 'trees', label: 'Деревья' }, { id: 'bins', label: 'Урны' }],
            },
          ],
        });
        const voters = await Promise.all([0, 1, 2].map(() => actor(platform.url, phone(), inbox, { district: 'arbat', birthYear: 1980 })));
        await vote(voters[0], pollId, { q1: ['n'], q2: ['bench', 'light'] });
        // one ballot is under the threshold (2 here): the public projector shows no totals, only why
        const projector = await newPage(vp);
        await projector.goto(`${platform.url}/live/${pollId}`);
        await hydrated(projector);
        await expect(projector.getByTestId('results-hidden').textContent()).resolves.toContain('Голосов пока слишком мало');
        await expect(projector.getByTestId('results-chart').count()).resolves.toBe(0);
        await shot(projector, `projector-too-few-${vp.name}`);
        await vote(voters[1], pollId, { q1: ['s'], q2: ['bench', 'light'] });
        // the threshold is reached: the same page shows the totals by itself
        await projector.locator('[data-testid="poll-results"][data-ballots="2"]').waitFor({ timeout: 10_000 });
        await vote(voters[2], pollId, { q1: ['e'], q2: ['bench'] });

        // the fourth votes in the browser, skipping the optional question
        const me = await actor(platform.url, phone(), inbox, { district: 'tverskoy', birthYear: 1990 });
        const page = await newPage(vp, me);
        await page.goto(`${platform.url}/polls/${pollId}`);
        await hydrated(page);
        await page.getByTestId('next').click();
        await page.getByLabel('Освещение').check();
        await page.getByLabel('Деревья').check();
        await page.getByTestId('next').click();
        await page.getByTestId('submit-vote').click();
        await page.locator('[data-testid="poll-results"][data-ballots="4"]').waitFor();

        const [single, multi] = [page.getByTestId('results-chart').nth(0), page.getByTestId('results-chart').nth(1)];
        // three answered the optional question, one each: 33,4 + 33,3 + 33,3 (largest remainder), Russian format
        await expect(single.getAttribute('data-base')).resolves.toBe('3');
        await expect(shareTexts(single)).resolves.toEqual([`1 · 33,4${NBSP}%`, `1 · 33,3${NBSP}%`, `1 · 33,3${NBSP}%`]);
        // four answered the multi-choice one: 3 of 4 chose lighting and benches = 75 %, not a share of the 7 choices
        await expect(multi.getAttribute('data-base')).resolves.toBe('4');
        await expect(shareTexts(multi)).resolves.toEqual([`3 · 75${NBSP}%`, `3 · 75${NBSP}%`, `1 · 25${NBSP}%`, `0 · 0${NBSP}%`]);
        await expect(multi.locator('[data-option="light"] .bar').getAttribute('style')).resolves.toContain('--w: 0.75');
        await expect(multi.getByTestId('respondents').textContent()).resolves.toContain('Ответили: 4');
        // this browser's own choices are marked, and only those
        await expect(multi.locator('li:has([data-testid="my-answer"])').evaluateAll((els) => els.map((e) => e.getAttribute('data-option')))).resolves.toEqual(['light', 'trees']);
        await expect(single.getByTestId('my-answer').count()).resolves.toBe(0);
        await shot(page, `shares-${vp.name}`);
        await axe(page, `poll-results-${vp.name}`);

        await page.goto(`${platform.url}/polls/${pollId}?lang=en`);
        await expect(shareTexts(page.getByTestId('results-chart').nth(1))).resolves.toEqual(['3 · 75%', '3 · 75%', '1 · 25%', '0 · 0%']);
        await page.goto(`${platform.url}/polls/${pollId}?lang=ru`);

        // the projector (anonymous, public-live): one question at a time, keys page through, results can be hidden
        await projector.locator('[data-testid="poll-results"][data-ballots="4"]').waitFor({ timeout: 10_000 });
        await expect(projector.locator('header.site-header').count()).resolves.toBe(0);
        await expect(projector.getByTestId('join-code').textContent()).resolves.toBe(String(pollId));
        await projector.getByTestId('countdown').waitFor();
        await expect(shareTexts(projector.getByTestId('results-chart'))).resolves.toEqual([`1 · 33,4${NBSP}%`, `1 · 33,3${NBSP}%`, `1 · 33,3${NBSP}%`]);
        await projector.keyboard.press('ArrowRight');
        await projector.locator('[data-testid="projector"][data-question="1"]').waitFor();
        await expect(shareTexts(projector.getByTestId('results-chart'))).resolves.toEqual([`3 · 75${NBSP}%`, `3 · 75${NBSP}%`, `1 · 25${NBSP}%`, `0 · 0${NBSP}%`]);
        await shot(projector, `projector-${vp.name}`);
        await axe(projector, `projector-${vp.name}`);
        await projector.keyboard.press('h');
        await projector.getByTestId('results-curtain').waitFor();
        await expect(projector.getByTestId('results-chart').count()).resolves.toBe(0);
        await shot(projector, `projector-hidden-${vp.name}`);

        // the moderator's dashboard: the same shares; the district breakdown explains the merge, then splits
        const dash = await newPage(vp, moderator);
        await dash.goto(`${platform.url}/moderate/${pollId}`);
        await expect(shareTexts(dash.getByTestId('results-chart').nth(1))).resolves.toEqual([`3 · 75${NBSP}%`, `3 · 75${NBSP}%`, `1 · 25${NBSP}%`, `0 · 0${NBSP}%`]);
        // arbat 3 and tverskoy 1: tverskoy alone would be one person, so both fold into "other"
        await expect(dash.getByTestId('by-district').locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-option')))).resolves.toEqual(['other']);
        await expect(dash.getByTestId('groups-merged').first().textContent()).resolves.toContain('меньше 2 голосов');
        await shot(dash, `dashboard-merged-${vp.name}`);
        // a signed-in resident who has not voted watches the public-live projector: one visibility rule for
        // HTTP and the socket, so its chart follows the votes too
        const onlooker = await actor(platform.url, phone(), inbox, { district: 'presnensky', birthYear: 1970 });
        const onlookerPage = await newPage(vp, onlooker);
        await onlookerPage.goto(`${platform.url}/live/${pollId}`);
        await onlookerPage.locator('[data-testid="poll-results"][data-ballots="4"]').waitFor();
        const fifth = await actor(platform.url, phone(), inbox, { district: 'tverskoy', birthYear: 1991 });
        await vote(fifth, pollId, { q2: ['trees'] });
        await onlookerPage.locator('[data-testid="poll-results"][data-ballots="5"]').waitFor({ timeout: 10_000 });
        await shot(onlookerPage, `projector-signed-in-non-voter-${vp.name}`);
        await dash.locator('[data-testid="by-district"] li[data-option="tverskoy"]').waitFor({ timeout: 10_000 });
        await expect(dash.getByTestId('by-district').locator('li').evaluateAll((els) => els.map((e) => [e.getAttribute('data-option'), e.getAttribute('data-share')]))).resolves.toEqual([
          ['arbat', '60'],
          ['tverskoy', '40'],
        ]);
        // ballots per minute come from the server: a reload keeps all five
        await dash.reload();
        const perMinute = (await dash.getByTestId('sparkline').getAttribute('data-values'))!.split(',').map(Number);
        expect(perMinute.reduce((a, b) => a + b, 0)).toBe(5);
        await shot(dash, `dashboard-${vp.name}`);
        await axe(dash, `dashboard-${vp.name}`);
        expect(errors).toEqual([]);
      });

      it('when a hidden-results poll gets votes, closes early and is finalised, then the poll page and projector catch up by themselves (participants, real end time, results), and its open data is linked from the page and the archive, with readable API docs', async () => {
        const pollId = await livePoll(moderator, {
          title: `Новая библиотека (${vp.name})`,
          questions: [{ id: 'q1', text: 'Нужна ли библиотека?', kind: 'single', options: [{ id: 'y', label: 'Да' }, { id: 'n', label: 'Нет' }] }],
        });
        const watcher = await actor(platform.url, phone(), inbox, { district: 'arbat', birthYear: 1975 });
        const page = await newPage(vp, watcher);
        await page.goto(`${platform.url}/polls/${pollId}`);
        const projector = await newPage(vp);
        await projector.goto(`${platform.url}/live/${pollId}`);
        await page.locator('[data-testid="poll-page"][data-live="on"]').waitFor();
        await hydrated(projector);
        await page.getByTestId('results-hidden').waitFor();
        await expect(page.getByTestId('participants').textContent()).resolves.toBe('Участников: 0');
        await projector.getByTestId('results-hidden').waitFor();

        const voters = await Promise.all([0, 1, 2].map(() => actor(platform.url, phone(), inbox, { district: 'arbat', birthYear: 1970 })));
        for (const [i, v] of voters.entries()) await vote(v, pollId, { q1: [i < 2 ? 'y' : 'n'] });
        await page.getByTestId('participants').filter({ hasText: 'Участников: 3' }).waitFor({ timeout: 10_000 });
        await projector.getByTestId('projector-participants').filter({ hasText: 'Участников: 3' }).waitFor({ timeout: 10_000 });
        await shot(page, `hidden-participants-${vp.name}`);

        await api(moderator, 'POST', `/polls/${pollId}/close`);
        // closed early today: the real end time, never the planned one (tomorrow); results appear without a reload
        await page.locator('[data-testid="poll-results"][data-ballots="3"]').waitFor({ timeout: 10_000 });
        await expect(page.getByTestId('ended-at').textContent()).resolves.toContain(`Завершён ${today()}`);
        expect(await page.getByTestId('ended-at').textContent()).not.toContain(tomorrow());
        await expect(shareTexts(page.getByTestId('results-chart'))).resolves.toEqual([`2 · 66,7${NBSP}%`, `1 · 33,3${NBSP}%`]);
        await projector.getByTestId('projector-closed').filter({ hasText: 'Голосование завершено' }).waitFor({ timeout: 10_000 });
        await projector.locator('[data-testid="poll-results"][data-ballots="3"]').waitFor();
        await expect(projector.getByText('Голосуйте: наведите камеру на код').count()).resolves.toBe(0);
        // the worker finalises it: both pages hear it, and the poll page offers the open data
        await page.locator('[data-testid="poll-status"]', { hasText: 'итоги подведены' }).waitFor({ timeout: 15_000 });
        await projector.locator('[data-testid="projector-status"]', { hasText: 'итоги подведены' }).waitFor({ timeout: 15_000 });
        await page.getByTestId('open-data').waitFor();
        await shot(page, `closed-caught-up-${vp.name}`);
        await axe(page, `poll-closed-${vp.name}`);
        // open data from the page's own links: CSV with a BOM and respondents, JSON with the texts
        const csvHref = await page.getByTestId('open-data').getByRole('link', { name: 'Итоги в CSV' }).getAttribute('href');
        const csv = await page.request.get(`${platform.url}${csvHref}`);
        const bytes = await csv.body();
        expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
        expect(bytes.toString('utf8')).toContain(`${pollId},respondents,q1,Нужна ли библиотека?,,,,3`);
        const jsonHref = await page.getByTestId('open-data').getByRole('link', { name: 'Итоги в JSON' }).getAttribute('href');
        const doc = (await (await page.request.get(`${platform.url}${jsonHref}`)).json()) as { poll: { questions: { text: string; options: { label: string }[] }[] } };
        expect(doc.poll.questions[0]).toMatchObject({ text: 'Нужна ли библиотека?', options: [{ label: 'Да' }, { label: 'Нет' }] });
        // the archive finds it by its question text and links the same files; a miss says so
        await page.goto(`${platform.url}/archive?q=${encodeURIComponent('нужна ли библиотека')}`);
        const item = page.getByTestId('archive-list').locator('li', { hasText: `Новая библиотека (${vp.name})` });
        await item.getByTestId('archive-open-data').getByRole('link', { name: 'Итоги в CSV' }).waitFor();
        await shot(page, `archive-${vp.name}`);
        await axe(page, `archive-${vp.name}`);
        await page.goto(`${platform.url}/archive?q=${encodeURIComponent('подводная лодка')}`);
        await expect(page.getByTestId('archive-nothing').textContent()).resolves.toContain('По запросу «подводная лодка» ничего не нашлось');
        // the readable API docs: Swagger UI served by the platform itself, reading /api/openapi.json
        await page.getByRole('link', { name: 'Описание API' }).click();
        await page.waitForURL('**/api/docs');
        await page.locator('.swagger-ui .info .title').waitFor({ timeout: 20_000 });
        await page.locator('.opblock-summary-path', { hasText: '/api/polls/{id}/results.csv' }).first().waitFor();
        await shot(page, `api-docs-${vp.name}`);
        await shot(projector, `projector-closed-${vp.name}`);
        expect(errors).toEqual([]);
      });

      it('when the connection drops and a decision is published meanwhile, then after reconnecting the badge shows it without a reload (connection state recovery)', async () => {
        const resident = await actor(platform.url, phone(), inbox, { district: 'arbat', birthYear: 1988 });
        const pollId = await livePoll(moderator, {
          title: `Ремонт набережной (${vp.name})`,
          questions: [{ id: 'q1', text: 'Начать ремонт весной?', kind: 'single', options: [{ id: 'y', label: 'Да' }, { id: 'n', label: 'Нет' }] }],
        });
        await vote(resident, pollId, { q1: ['y'] });
        await api(moderator, 'POST', `/polls/${pollId}/close`);
        await until(async () => (await api<{ poll: { status: string } }>(moderator, 'GET', `/polls/${pollId}`)).poll.status === 'finalised', 20_000, 100);

        // the browser reaches the platform through a proxy that can cut its connections
        const page = await newPage(vp, resident, proxied);
        await page.goto(`${proxied}/polls/${pollId}`);
        await page.locator('[data-testid="poll-page"][data-live="on"]').waitFor();
        await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
        await expect(page.getByTestId('unread-badge').count()).resolves.toBe(0);

        proxy.cut();
        await page.locator('[data-testid="poll-page"][data-live="off"]').waitFor({ timeout: 10_000 });
        await api(official, 'POST', `/polls/${pollId}/decision`, { summary: 'Ремонт начнётся в апреле', body: 'Подрядчик выбран.' });
        await until(async () => (await api<{ unread: number }>(resident, 'GET', '/me/notifications/unread')).unread === 1, 20_000, 100);
        proxy.restore();

        await page.locator('[data-testid="poll-page"][data-live="on"]').waitFor({ timeout: 30_000 });
        await page.locator('[data-testid="unread-badge"][data-count="1"]').waitFor({ timeout: 10_000 });
        await expect(page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).resolves.toBe(true);
        await shot(page, `recovered-badge-${vp.name}`);
        expect(errors.filter((e) => !/WebSocket|ERR_CONNECTION|socket\.io/i.test(e))).toEqual([]);
        errors.length = 0;
      });
    });
  }

  it('when every page above was checked, then axe found no serious or critical violations', () => {
    kit.expectAxeClean();
  });
});
