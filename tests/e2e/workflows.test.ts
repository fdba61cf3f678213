import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Platform } from '../helpers/platform.ts';
import { until } from '../helpers/processes.ts';
import { otpInbox, hydrated } from './support.ts';
import { pageKit } from './pages.ts';
import { actor, api, livePoll, staff, vote, startStack, type Actor } from './actors.ts';

// Workflows that used to dead-end: a moderator fixing a draft, an official following decisions through,
// an admin running the rewards shop and a resident spending points — in real Chromium at a desktop and
// a phone size. Setup goes through the API; what is checked is what the person does and sees.
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const ADMIN = '+79970000001';

describe('workflows: drafts, decisions, rewards (real Chromium, desktop and phone)', () => {
  let platform: Platform;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let inbox: Awaited<ReturnType<typeof otpInbox>>;
  let admin: Actor;
  let moderator: Actor;
  let official: Actor;
  const kit = pageKit('workflows');
  const { newPage, shot, axe, errors } = kit;
  let seq = 100;
  const phone = () => `+7997${String(seq++).padStart(7, '0')}`;


  beforeAll(async () => {
    stack = await startStack(ADMIN);
    ({ platform, inbox, admin } = stack);
    moderator = await staff(platform.url, phone(), inbox, admin, ['moderator']);
    official = await staff(platform.url, phone(), inbox, admin, ['official']);
  });
  afterAll(async () => {
    await kit.close();
    await stack?.stop();
  });

  for (const vp of VIEWPORTS) {
    describe(`at ${vp.name} size (${vp.width}×${vp.height})`, () => {
      it('when a moderator saves a draft with a typo, then the builder explains errors at the field, and the draft can be edited, previewed as a resident, duplicated and deleted', async () => {
        const page = await newPage(vp, moderator);
        await page.goto(`${platform.url}/moderate/new`);
        await hydrated(page);
        // an empty form: the error sits beside the title and the title has the focus
        await page.getByTestId('save-draft').click();
        await expect(page.locator('#title-err').textContent()).resolves.toBe('Укажите название.');
        await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('title');
        await page.locator('#title').fill(`Парковка у метро (${vp.name})`);
        await page.locator('#title-err').waitFor({ state: 'detached' }); // fixed: its error goes away
        await page.locator('#q0-text').fill('Сколько мест нужно?');
        await page.locator('#q0-o0').fill('Сто');
        await page.locator('#q0-o1').fill('Двести');
        // districts: grouped by okrug, searchable, a whole okrug at once
        await page.locator('#district-search').fill('Арбат');
        await page.getByLabel('Арбат', { exact: true }).check();
        await page.locator('#district-search').fill('');
        await page.locator('details.okrug[data-okrug="zao"] summary').click();
        await page.locator('details.okrug[data-okrug="zao"]').getByTestId('whole-okrug').check();
        await expect(page.getByTestId('districts-picked').textContent()).resolves.toMatch(/Выбрано районов: \d\d/);
        await shot(page, `builder-${vp.name}`);
        await axe(page, `builder-${vp.name}`);
        await page.getByTestId('save-draft').click();
        await page.waitForURL(/\/moderate\/\d+$/);
        const draftId = Number(new URL(page.url()).pathname.split('/').pop());

        // edit: fix the typo, add a multi-choice optional question with a cap, reorder it first
        await page.getByTestId('edit-draft').first().click();
        await page.waitForURL(`**/moderate/${draftId}/edit`);
        await hydrated(page);
        await expect(page.locator('#title').inputValue()).resolves.toBe(`Парковка у метро (${vp.name})`);
        await page.locator('#q0-o1').fill('Триста');
        await page.getByTestId('add-question').click();
        await page.locator('#q1-text').fill('Что ещё нужно?');
        await page.locator('#q1-kind').selectOption('multi');
        await page.locator('#q1-o0').fill('Навес');
        await page.locator('#q1-o1').fill('Зарядка');
        await page.getByTestId('add-option').nth(1).click();
        await page.locator('#q1-o2').fill('Велопарковка');
        await page.locator('#q1-max').fill('5');
        await page.getByTestId('save-draft').click();
        await expect(page.locator('#q1-max-err').textContent()).resolves.toContain('от 1 до 3');
        await page.locator('#q1-max').fill('2');
        await page.getByLabel('Необязательный вопрос (можно пропустить)').nth(1).check();
        await page.getByTestId('question-up').nth(1).click();
        await expect(page.locator('#q0-text').inputValue()).resolves.toBe('Что ещё нужно?');
        await shot(page, `edit-${vp.name}`);
        await page.getByTestId('save-draft').click();
        await page.waitForURL(`**/moderate/${draftId}?saved`);
        const saved = (await api<{ poll: { title: string; audience: { districts: string[] }; questions: { text: string; kind: string; maxChoices: number; required: boolean; options: { label: string }[] }[] } }>(moderator, 'GET', `/polls/${draftId}`)).poll;
        expect(saved.questions.map((q) => [q.text, q.kind, q.maxChoices, q.required, q.options.map((o) => o.label)])).toEqual([
          ['Что ещё нужно?', 'multi', 2, false, ['Навес', 'Зарядка', 'Велопарковка']],
          ['Сколько мест нужно?', 'single', 1, true, ['Сто', 'Триста']],
        ]);
        expect(saved.audience.districts).toContain('arbat');
        expect(saved.audience.districts.length).toBeGreaterThan(10);
        // the "saved" note is for this visit only
        await until(async () => !new URL(page.url()).search, 5_000, 50);

        // preview as a resident: the questions as they will be asked, nothing sent
        await page.getByTestId('preview-draft').click();
        await page.waitForURL(`**/moderate/${draftId}/preview`);
        await hydrated(page);
        await page.getByTestId('preview-banner').waitFor();
        await page.getByLabel('Навес').check();
        await page.getByTestId('next').click();
        await page.getByLabel('Сто').check();
        await page.getByTestId('next').click();
        await page.getByTestId('submit-vote').click();
        await expect(page.getByTestId('vote-error').textContent()).resolves.toContain('предпросмотр');
        await shot(page, `preview-${vp.name}`);
        await axe(page, `preview-${vp.name}`);

        // duplicate: a new draft in the builder with the same questions
        await page.goto(`${platform.url}/moderate/${draftId}`);
        await page.getByTestId('duplicate').click();
        await page.waitForURL(/\/moderate\/\d+\/edit$/);
        const copyId = Number(new URL(page.url()).pathname.split('/')[2]);
        expect(copyId).not.toBe(draftId);
        await expect(page.locator('#q1-text').inputValue()).resolves.toBe('Сколько мест нужно?');

        // delete the original, after confirming
        await page.goto(`${platform.url}/moderate/${draftId}`);
        await page.locator('summary', { hasText: 'Удалить черновик' }).click();
        await page.getByTestId('delete-draft').click();
        await page.waitForURL('**/moderate?deleted');
        await page.getByTestId('deleted').waitFor();
        expect((await fetch(`${platform.url}/api/polls/${draftId}`, { headers: moderator.headers })).status).toBe(404);
        await shot(page, `deleted-${vp.name}`);
        expect(errors).toEqual([]);
      });

      it('when an official publishes decisions, then they stay listed in progress, a rejection without a reason is explained at the field, and final steps need a confirmation', async () => {
        const voter = await actor(platform.url, phone(), inbox, { district: 'arbat', birthYear: 1980 });
        const finalised = async (title: string) => {
          const id = await livePoll(moderator, { title, questions: [{ id: 'q1', text: 'Согласны?', kind: 'single', options: [{ id: 'y', label: 'Да' }, { id: 'n', label: 'Нет' }] }] });
          await vote(voter, id, { q1: ['y'] });
          await api(moderator, 'POST', `/polls/${id}/close`);
          await until(async () => (await api<{ poll: { status: string } }>(moderator, 'GET', `/polls/${id}`)).poll.status === 'finalised', 20_000, 100);
          return id;
        };
        const first = await finalised(`Сквер на Садовой (${vp.name})`);
        const second = await finalised(`Фонтан у театра (${vp.name})`);
        await api(official, 'POST', `/polls/${first}/decision`, { summary: 'Сквер благоустроят', body: 'Работы летом.' });

        const page = await newPage(vp, official);
        await page.goto(`${platform.url}/official`);
        const item = page.locator(`[data-testid="in-progress-item"][data-poll-id="${first}"]`);
        await expect(item.getByTestId('in-progress-status').textContent()).resolves.toBe('принято решение');
        await page.locator(`[data-testid="waiting-item"][data-poll-id="${second}"]`).getByText('Осталось рабочих дней', { exact: false }).waitFor();
        await shot(page, `official-${vp.name}`);
        await axe(page, `official-${vp.name}`);

        await item.getByRole('link').click();
        await page.waitForURL(`**/official/${first}`);
        await hydrated(page);
        await page.getByLabel('отклонено', { exact: true }).check();
        await page.getByTestId('decision-step').click();
        await expect(page.getByTestId('reason-error').textContent()).resolves.toContain('напишите причину');
        await expect(page.locator('#text').getAttribute('aria-invalid')).resolves.toBe('true');
        await shot(page, `reason-missing-${vp.name}`);
        // a reason, but no confirmation yet: nothing changes
        await page.getByLabel('Причина отказа (обязательно)').fill('Нет финансирования в этом году.');
        await page.getByTestId('decision-step').click();
        await page.locator('.confirm .hint', { hasText: 'Отметьте подтверждение' }).waitFor();
        expect((await api<{ decision: { status: string } }>(official, 'GET', `/polls/${first}/decision`)).decision.status).toBe('decided');
        await page.getByLabel('отклонено', { exact: true }).check();
        await page.getByTestId('confirm-final').check();
        await page.getByTestId('decision-step').click();
        await page.getByTestId('decision-done').waitFor();
        expect((await api<{ decision: { status: string } }>(official, 'GET', `/polls/${first}/decision`)).decision.status).toBe('rejected');
        await axe(page, `official-decision-${vp.name}`);
        expect(errors).toEqual([]);
      });

      it('when an admin adds rewards on the rewards screen, then residents see prices, a sold-out item says so, a too-dear one says how many points are missing, and a redemption is confirmed before points are spent', async () => {
        const page = await newPage(vp, admin);
        await page.goto(`${platform.url}/admin`);
        await page.getByTestId('admin-rewards').click();
        await page.waitForURL('**/admin/rewards');
        await hydrated(page);
        const add = async (name: string, price: number, stock: number) => {
          await page.locator('#new-name').fill(name);
          await page.locator('#new-price').fill(String(price));
          await page.locator('#new-stock').fill(String(stock));
          await page.getByTestId('reward-create-submit').click();
          await page.getByTestId('reward-saved').filter({ hasText: name }).waitFor();
        };
        await add(`Билет в музей (${vp.name})`, 30, 5);
        await add(`Термокружка (${vp.name})`, 500, 3);
        await add(`Экскурсия (${vp.name})`, 10, 1);
        // edit: the excursion sells out
        const excursion = page.locator('[data-testid="admin-reward"]', { hasText: `Экскурсия (${vp.name})` });
        await excursion.getByLabel('Осталось, шт.').fill('0');
        await excursion.getByTestId('reward-save').click();
        await page.getByTestId('reward-saved').filter({ hasText: 'сохранены' }).waitFor();
        await shot(page, `admin-rewards-${vp.name}`);
        await axe(page, `admin-rewards-${vp.name}`);

        // a resident with 50 points (the complete profile)
        const resident = await actor(platform.url, phone(), inbox, { district: 'arbat', birthYear: 1990 });
        await until(async () => (await api<{ balance: number }>(resident, 'GET', '/me/points')).balance === 50, 20_000, 100);
        const shop = await newPage(vp, resident);
        await shop.goto(`${platform.url}/rewards`);
        await hydrated(shop);
        const card = (name: string) => shop.locator('[data-testid="reward"]', { hasText: `${name} (${vp.name})` });
        await expect(card('Экскурсия').getByTestId('sold-out').textContent()).resolves.toBe('Распродано');
        await expect(card('Экскурсия').getByRole('button').isDisabled()).resolves.toBe(true);
        await expect(card('Термокружка').getByTestId('points-missing').textContent()).resolves.toBe('Не хватает баллов: 450');
        await expect(card('Термокружка').getByRole('button').isDisabled()).resolves.toBe(true);
        await card('Билет в музей').getByRole('button', { name: /Получить/ }).click();
        await expect(card('Билет в музей').getByTestId('redeem-confirm').textContent()).resolves.toContain('Обменять 30 баллов на «Билет в музей');
        expect((await api<{ balance: number }>(resident, 'GET', '/me/points')).balance).toBe(50); // nothing spent yet
        await shot(shop, `redeem-confirm-${vp.name}`);
        await axe(shop, `rewards-${vp.name}`);
        await shop.getByTestId('redeem-yes').click();
        await shop.getByTestId('redeemed').waitFor();
        await shop.getByTestId('rewards-balance').filter({ hasText: 'У вас 20 баллов' }).waitFor();
        await shot(shop, `redeemed-${vp.name}`);
        expect(errors).toEqual([]);
      });
    });
  }

  it('when a resident without a profile opens polls, then a city-wide one takes their vote at once, and a district poll sends them to the profile and back with the points shown; sign-in offers a resend after a countdown', async () => {
    const vp = VIEWPORTS[1];
    const cityWide = await livePoll(moderator, { title: 'Часы работы катка', questions: [{ id: 'q1', text: 'Продлить до полуночи?', kind: 'single', options: [{ id: 'y', label: 'Да' }, { id: 'n', label: 'Нет' }] }] });
    const district = await livePoll(moderator, {
      title: 'Сквер на Арбате',
      audience: { districts: ['arbat'], minAge: null, maxAge: null },
      questions: [{ id: 'q1', text: 'Нужен фонтан?', kind: 'single', options: [{ id: 'y', label: 'Да' }, { id: 'n', label: 'Нет' }] }],
    });
    // sign in through the page: after the code is sent, a resend waits for its countdown
    const page = await newPage(vp);
    const who = phone();
    await page.goto(`${platform.url}/signin?next=/polls/${cityWide}`);
    await hydrated(page);
    await page.getByLabel('Номер телефона').fill(who);
    await page.getByTestId('send-code').click();
    await expect(page.getByTestId('resend-timer').textContent()).resolves.toMatch(/^Можно через \d+ с$/);
    await expect(page.getByTestId('resend-code').isDisabled()).resolves.toBe(true);
    await shot(page, 'signin-resend');
    await page.getByLabel('Код из SMS').fill(await inbox.code(who));
    await page.getByTestId('verify-code').click();
    await page.waitForURL(`**/polls/${cityWide}`);
    // a one-question, city-wide poll: no profile needed, no "next" step, no review
    await hydrated(page);
    await page.getByLabel('Да').check();
    await expect(page.getByTestId('next').count()).resolves.toBe(0);
    await page.getByTestId('submit-vote').click();
    await page.getByTestId('vote-thanks').waitFor();
    // the district poll needs the profile: there and back, with the first-completion points said
    await page.goto(`${platform.url}/polls/${district}`);
    await page.getByTestId('complete-profile').click();
    await page.waitForURL(`**/profile?next=/polls/${district}`);
    await hydrated(page);
    await page.getByLabel('Район').selectOption('arbat');
    await page.getByLabel('Год рождения').fill('1984');
    await page.getByLabel('женский').check();
    await page.getByTestId('profile-save').click();
    await page.waitForURL(`**/polls/${district}?profile=bonus`);
    await expect(page.getByTestId('profile-bonus').textContent()).resolves.toContain('+50 баллов');
    await page.getByTestId('voting-form').waitFor();
    await shot(page, 'profile-bonus');
    await axe(page, 'profile-return');
    expect(errors).toEqual([]);
  });

  it('when every page above was checked, then axe found no serious or critical violations', () => {
    kit.expectAxeClean();
  });
});
