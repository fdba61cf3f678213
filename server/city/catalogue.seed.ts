import type { Db } from '../db/db.ts';
import { DISTRICTS } from '../../shared/districts.ts';
import type { OrganisationKind } from '../../shared/city.ts';

type SeedCategory = { code: string; ru: string; en: string; orgKind: OrganisationKind; deadlineDays: number };

/** The categories residents file under (Moscow's portal uses these headings); deadlines in working days. */
export const SEED_CATEGORIES: readonly SeedCategory[] = [
  { code: 'capital_repair', ru: 'Капитальный ремонт дома', en: 'Capital repair of a building', orgKind: 'capital_repair', deadlineDays: 8 },
  { code: 'entrance', ru: 'Подъезд и лестничная клетка', en: 'Entrance or stairwell', orgKind: 'housing', deadlineDays: 8 },
  { code: 'roof_leak', ru: 'Протечка кровли', en: 'Roof leak', orgKind: 'housing', deadlineDays: 5 },
  { code: 'yard', ru: 'Благоустройство двора', en: 'Yard improvement', orgKind: 'housing', deadlineDays: 8 },
  { code: 'road', ru: 'Дорожное покрытие, ямы', en: 'Road surface or pothole', orgKind: 'roads', deadlineDays: 8 },
  { code: 'sidewalk', ru: 'Тротуар', en: 'Sidewalk', orgKind: 'roads', deadlineDays: 8 },
  { code: 'lighting', ru: 'Уличное освещение', en: 'Street lighting', orgKind: 'lighting', deadlineDays: 5 },
  { code: 'waste', ru: 'Вывоз мусора', en: 'Waste collection', orgKind: 'housing', deadlineDays: 3 },
  { code: 'snow_ice', ru: 'Снег и наледь', en: 'Snow and ice', orgKind: 'housing', deadlineDays: 2 },
  { code: 'transport_stop', ru: 'Остановка общественного транспорта', en: 'Public transport stop', orgKind: 'transport', deadlineDays: 8 },
  { code: 'park', ru: 'Парк', en: 'Park', orgKind: 'parks', deadlineDays: 8 },
  { code: 'playground', ru: 'Детская площадка', en: 'Playground', orgKind: 'council', deadlineDays: 8 },
  { code: 'trees', ru: 'Деревья и газоны', en: 'Trees and lawns', orgKind: 'housing', deadlineDays: 8 },
  { code: 'illegal_trade', ru: 'Незаконная торговля', en: 'Illegal street trade', orgKind: 'council', deadlineDays: 8 },
];

type SeedOrganisation = { slug: string; ru: string; en: string; kind: OrganisationKind; districts: string[] };

const CITY_WIDE: readonly SeedOrganisation[] = [
  { slug: 'city-roads', ru: 'ГБУ «Автомобильные дороги»', en: 'Moscow Roads (GBU Avtomobilnye Dorogi)', kind: 'roads', districts: [] },
  { slug: 'city-lighting', ru: 'ГБУ «Моссвет»', en: 'Mossvet street lighting', kind: 'lighting', districts: [] },
  { slug: 'city-parks', ru: 'ГАУК «Мосгорпарк»', en: 'Mosgorpark (city parks)', kind: 'parks', districts: [] },
  { slug: 'city-transport', ru: 'ГУП «Мосгортранс»', en: 'Mosgortrans (public transport)', kind: 'transport', districts: [] },
  { slug: 'city-capital-repair', ru: 'Фонд капитального ремонта многоквартирных домов города Москвы', en: 'Moscow Capital Repair Fund', kind: 'capital_repair', districts: [] },
];

/** Each district's council (управа; a settlement's administration) and housing service, plus city-wide services. */
export function seedOrganisations(): SeedOrganisation[] {
  const local = DISTRICTS.flatMap((d): SeedOrganisation[] => {
    const settlement = d.kind === 'settlement';
    return [
      {
        slug: `council-${d.id}`,
        ru: settlement ? `Администрация поселения ${d.name.ru}` : `Управа района ${d.name.ru}`,
        en: settlement ? `${d.name.en} Settlement Administration` : `${d.name.en} District Council`,
        kind: 'council',
        districts: [d.id],
      },
      {
        slug: `housing-${d.id}`,
        ru: settlement ? `ГБУ «Жилищник поселения ${d.name.ru}»` : `ГБУ «Жилищник района ${d.name.ru}»`,
        en: `Zhilishchnik housing service, ${d.name.en}`,
        kind: 'housing',
        districts: [d.id],
      },
    ];
  });
  return [...local, ...CITY_WIDE];
}

/**
 * Inserts what is missing (idempotent; run at every start after the migrations). Never overwrites: an
 * admin's edits to a seeded category or organisation stay. An organisation handles the seeded
 * categories of its kind.
 */
export async function seedCatalogue(db: Db): Promise<{ categories: number; organisations: number }> {
  return db.transaction().execute(async (trx) => {
    const cats = await trx
      .insertInto('city_categories')
      .values(SEED_CATEGORIES.map((c, i) => ({ code: c.code, name_ru: c.ru, name_en: c.en, org_kind: c.orgKind, deadline_days: c.deadlineDays, active: true, sort: i })))
      .onConflict((oc) => oc.column('code').doNothing())
      .returning('code')
      .execute();
    const orgs = seedOrganisations();
    const inserted = await trx
      .insertInto('city_organisations')
      .values(orgs.map((o) => ({ slug: o.slug, name_ru: o.ru, name_en: o.en, kind: o.kind, active: true })))
      .onConflict((oc) => oc.column('slug').doNothing())
      .returning(['id', 'slug'])
      .execute();
    if (inserted.length) {
      const bySlug = new Map(orgs.map((o) => [o.slug, o]));
      const districtRows = inserted.flatMap((r) => bySlug.get(r.slug)!.districts.map((district) => ({ organisation_id: r.id, district })));
      for (let i = 0; i < districtRows.length; i += 1000) await trx.insertInto('city_org_districts').values(districtRows.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
      const categoryRows = inserted.flatMap((r) =>
        SEED_CATEGORIES.filter((c) => c.orgKind === bySlug.get(r.slug)!.kind).map((c) => ({ organisation_id: r.id, category: c.code })),
      );
      for (let i = 0; i < categoryRows.length; i += 1000) await trx.insertInto('city_org_categories').values(categoryRows.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
    }
    return { categories: cats.length, organisations: inserted.length };
  });
}
