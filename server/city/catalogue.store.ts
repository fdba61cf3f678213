import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { isUniqueViolation } from '../db/db-errors.ts';
import type { Category, CategoryCreate, CategoryPatch, Organisation, OrganisationCreate, OrganisationPatch, ResponderBinding } from '../../shared/city.ts';
import type { CityCategoryTable } from '../db/schema.ts';

const toCategory = (r: CityCategoryTable): Category => ({
  code: r.code,
  name: { ru: r.name_ru, en: r.name_en },
  orgKind: r.org_kind as Category['orgKind'],
  deadlineDays: r.deadline_days,
  active: r.active,
});

/** Categories, organisations (with the districts they serve and the categories they handle), responders. */
export function createCatalogueStore(db: Db) {
  async function organisations(filter: { ids?: number[]; district?: string; category?: string } = {}): Promise<Organisation[]> {
    let q = db.selectFrom('city_organisations').selectAll().orderBy('id');
    if (filter.ids) {
      if (!filter.ids.length) return [];
      q = q.where('id', 'in', filter.ids);
    }
    if (filter.category) q = q.where('id', 'in', db.selectFrom('city_org_categories').select('organisation_id').where('category', '=', filter.category));
    if (filter.district) {
      const district = filter.district;
      q = q.where((eb) =>
        eb.or([
          eb('id', 'in', eb.selectFrom('city_org_districts').select('organisation_id').where('district', '=', district)),
          eb.not(eb.exists(eb.selectFrom('city_org_districts as d').select('d.district').whereRef('d.organisation_id', '=', 'city_organisations.id'))),
        ]),
      );
    }
    const rows = await q.execute();
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const [ds, cs] = await Promise.all([
      db.selectFrom('city_org_districts').select(['organisation_id', 'district']).where('organisation_id', 'in', ids).orderBy('district').execute(),
      db.selectFrom('city_org_categories').select(['organisation_id', 'category']).where('organisation_id', 'in', ids).orderBy('category').execute(),
    ]);
    const group = <T extends { organisation_id: number }>(xs: T[], pick: (x: T) => string) => {
      const m = new Map<number, string[]>();
      for (const x of xs) (m.get(x.organisation_id) ?? m.set(x.organisation_id, []).get(x.organisation_id)!).push(pick(x));
      return m;
    };
    const dm = group(ds, (x) => x.district);
    const cm = group(cs, (x) => x.category);
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      name: { ru: r.name_ru, en: r.name_en },
      kind: r.kind as Organisation['kind'],
      districts: dm.get(r.id) ?? [],
      categories: cm.get(r.id) ?? [],
      active: r.active,
    }));
  }

  async function organisation(id: number): Promise<Organisation> {
    const [o] = await organisations({ ids: [id] });
    if (!o) throw new AppError('not_found', `No organisation ${id}`);
    return o;
  }

  async function assertCategories(codes: string[]) {
    if (!codes.length) return;
    const found = await db.selectFrom('city_categories').select('code').where('code', 'in', codes).execute();
    const missing = codes.filter((c) => !found.some((f) => f.code === c));
    if (missing.length) throw new AppError('invalid_body', 'Unknown categories', missing.map((m) => ({ path: 'categories', message: `unknown category "${m}"` })));
  }

  async function replaceLinks(trx: Db, id: number, districts?: string[], categories?: string[]) {
    if (districts) {
      await trx.deleteFrom('city_org_districts').where('organisation_id', '=', id).execute();
      const uniq = [...new Set(districts)];
      if (uniq.length) await trx.insertInto('city_org_districts').values(uniq.map((district) => ({ organisation_id: id, district }))).execute();
    }
    if (categories) {
      await trx.deleteFrom('city_org_categories').where('organisation_id', '=', id).execute();
      const uniq = [...new Set(categories)];
      if (uniq.length) await trx.insertInto('city_org_categories').values(uniq.map((category) => ({ organisation_id: id, category }))).execute();
    }
  }

  return {
    async categories(opts: { activeOnly?: boolean } = {}): Promise<Category[]> {
      let q = db.selectFrom('city_categories').selectAll().orderBy('sort').orderBy('code');
      if (opts.activeOnly) q = q.where('active', '=', true);
      return (await q.execute()).map(toCategory);
    },

    async category(code: string): Promise<Category | null> {
      const r = await db.selectFrom('city_categories').selectAll().where('code', '=', code).executeTakeFirst();
      return r ? toCategory(r) : null;
    },

    async createCategory(c: CategoryCreate): Promise<Category> {
      try {
        const max = await db.selectFrom('city_categories').select((eb) => eb.fn.max('sort').as('m')).executeTakeFirst();
        const r = await db
          .insertInto('city_categories')
          .values({ code: c.code, name_ru: c.name.ru, name_en: c.name.en, org_kind: c.orgKind, deadline_days: c.deadlineDays, active: c.active, sort: Number(max?.m ?? 0) + 1 })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toCategory(r);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `Category "${c.code}" exists`);
        throw err;
      }
    },

    async patchCategory(code: string, p: CategoryPatch): Promise<Category> {
      const r = await db
        .updateTable('city_categories')
        .set({
          ...(p.name ? { name_ru: p.name.ru, name_en: p.name.en } : {}),
          ...(p.orgKind ? { org_kind: p.orgKind } : {}),
          ...(p.deadlineDays !== undefined ? { deadline_days: p.deadlineDays } : {}),
          ...(p.active !== undefined ? { active: p.active } : {}),
        })
        .where('code', '=', code)
        .returningAll()
        .executeTakeFirst();
      if (!r) throw new AppError('not_found', `No category "${code}"`);
      return toCategory(r);
    },

    organisations,
    organisation,

    async createOrganisation(o: OrganisationCreate): Promise<Organisation> {
      await assertCategories(o.categories);
      try {
        const id = await db.transaction().execute(async (trx) => {
          const r = await trx
            .insertInto('city_organisations')
            .values({ slug: o.slug, name_ru: o.name.ru, name_en: o.name.en, kind: o.kind, active: o.active })
            .returning('id')
            .executeTakeFirstOrThrow();
          await replaceLinks(trx, r.id, o.districts, o.categories);
          return r.id;
        });
        return organisation(id);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `Organisation "${o.slug}" exists`);
        throw err;
      }
    },

    async patchOrganisation(id: number, p: OrganisationPatch): Promise<Organisation> {
      if (p.categories) await assertCategories(p.categories);
      await db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('city_organisations')
          .set({
            ...(p.name ? { name_ru: p.name.ru, name_en: p.name.en } : {}),
            ...(p.kind ? { kind: p.kind } : {}),
            ...(p.active !== undefined ? { active: p.active } : {}),
          })
          .where('id', '=', id)
          .returning('id')
          .executeTakeFirst();
        if (!r) throw new AppError('not_found', `No organisation ${id}`);
        await replaceLinks(trx, id, p.districts, p.categories);
      });
      return organisation(id);
    },

    /**
     * Routing's proposal: an active organisation handling the category that serves the district, a
     * district's own before a city-wide one, lowest id first among equals.
     */
    async propose(category: string, district: string): Promise<Organisation | null> {
      const r = await db
        .selectFrom('city_organisations as o')
        .innerJoin('city_org_categories as c', 'c.organisation_id', 'o.id')
        .leftJoin('city_org_districts as d', (j) => j.onRef('d.organisation_id', '=', 'o.id').on('d.district', '=', district))
        .select(['o.id', 'd.district'])
        .where('o.active', '=', true)
        .where('c.category', '=', category)
        .where((eb) =>
          eb.or([
            eb('d.district', 'is not', null),
            eb.not(eb.exists(eb.selectFrom('city_org_districts as any').select('any.district').whereRef('any.organisation_id', '=', 'o.id'))),
          ]),
        )
        .orderBy((eb) => eb.case().when('d.district', 'is not', null).then(0).else(1).end())
        .orderBy('o.id')
        .limit(1)
        .executeTakeFirst();
      return r ? organisation(r.id) : null;
    },

    async responderOrgs(userId: number): Promise<number[]> {
      const rows = await db.selectFrom('city_responders').select('organisation_id').where('user_id', '=', userId).orderBy('organisation_id').execute();
      return rows.map((r) => r.organisation_id);
    },

    async bindResponder(userId: number, organisationIds: number[]): Promise<ResponderBinding> {
      const ids = [...new Set(organisationIds)];
      if (ids.length) {
        const found = await db.selectFrom('city_organisations').select('id').where('id', 'in', ids).execute();
        const missing = ids.filter((i) => !found.some((f) => f.id === i));
        if (missing.length) throw new AppError('invalid_body', 'Unknown organisations', missing.map((m) => ({ path: 'organisationIds', message: `no organisation ${m}` })));
      }
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('city_responders').where('user_id', '=', userId).execute();
        if (ids.length) await trx.insertInto('city_responders').values(ids.map((organisation_id) => ({ user_id: userId, organisation_id }))).execute();
      });
      return { userId, organisationIds: ids.sort((a, b) => a - b) };
    },

    /** Users bound to any of the organisations (reminders go to them). */
    async respondersOf(organisationId: number): Promise<number[]> {
      const rows = await db.selectFrom('city_responders').select('user_id').where('organisation_id', '=', organisationId).execute();
      return rows.map((r) => r.user_id);
    },
  };
}
export type CatalogueStore = ReturnType<typeof createCatalogueStore>;
