import { error } from '@sveltejs/kit';
import type { ServerApi } from './api.ts';
import type { Category, Organisation } from '$shared/city.ts';

/** A report id from a route parameter: anything but a positive integer is the 404 page. */
export function reportIdParam(raw: string): number {
  const id = Number(raw);
  if (!/^[1-9][0-9]{0,11}$/.test(raw) || !Number.isSafeInteger(id)) error(404, { message: 'not_found', code: 'not_found' });
  return id;
}

/** The catalogue as the pages show it: categories and organisations, ru/en names, small enough to send whole. */
export type Catalogue = { categories: Category[]; organisations: { id: number; name: { ru: string; en: string }; districts: string[] }[] };

export async function loadCatalogue(api: ServerApi): Promise<Catalogue> {
  const [c, o] = await Promise.all([api<{ items: Category[] }>('/city/categories'), api<{ items: Organisation[] }>('/city/organisations')]);
  return {
    categories: c.ok ? c.data.items.filter((x) => x.active) : [],
    organisations: o.ok ? o.data.items.map((x) => ({ id: x.id, name: x.name, districts: x.districts })) : [],
  };
}

/**
 * The multipart body the API takes, from a submitted form: the named text fields (blank ones left out, so
 * optional fields stay absent) and the chosen `photos`. A file input with nothing chosen still submits one
 * empty, nameless part; that one is dropped.
 */
export function multipartOf(form: FormData, fields: readonly string[]): { body: FormData; values: Record<string, string>; photos: number } {
  const body = new FormData();
  const values: Record<string, string> = {};
  for (const f of fields) {
    const v = form.get(f);
    if (typeof v === 'string') values[f] = v;
    if (typeof v === 'string' && v.trim() !== '') body.append(f, v.trim());
  }
  let photos = 0;
  for (const p of form.getAll('photos')) {
    if (typeof p === 'string' || (p.size === 0 && !p.name)) continue;
    body.append('photos', p, p.name || 'photo');
    photos++;
  }
  return { body, values, photos };
}
