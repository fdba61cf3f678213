import type { Db } from '../db/db.ts';
import type { AreaAlerts } from '../../shared/city-lists.ts';

/** Area alerts: the districts (and categories; none = all) a resident follows. */
export function createAlertStore(db: Db) {
  return {
    async get(userId: number): Promise<AreaAlerts> {
      const r = await db.selectFrom('city_alerts').select(['districts', 'categories']).where('user_id', '=', userId).executeTakeFirst();
      return r ? { districts: r.districts, categories: r.categories } : { districts: [], categories: [] };
    },
    async set(userId: number, a: AreaAlerts): Promise<AreaAlerts> {
      const districts = [...new Set(a.districts)];
      const categories = [...new Set(a.categories)];
      if (!districts.length) {
        await db.deleteFrom('city_alerts').where('user_id', '=', userId).execute();
        return { districts: [], categories };
      }
      await db
        .insertInto('city_alerts')
        .values({ user_id: userId, districts, categories, updated_at: new Date() })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ districts, categories, updated_at: new Date() }))
        .execute();
      return { districts, categories };
    },
  };
}
