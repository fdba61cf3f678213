/** Districts as the profile form and the poll builder show them (issue 3 serves them at /api/districts). */
export type DistrictView = { id: string; okrug: string; name: { ru: string; en: string } };
export type OkrugView = { id: string; name: { ru: string; en: string } };

type Loose = Record<string, unknown>;

export function toDistricts(raw: unknown): DistrictView[] {
  const list = Array.isArray(raw) ? raw : ((raw as Loose | null)?.districts ?? []);
  return (list as Loose[]).map((d) => {
    const id = String(d.id ?? d.slug ?? d.code ?? '');
    const n = d.name as unknown;
    const ru = typeof n === 'string' ? n : String((n as Loose | undefined)?.ru ?? d.nameRu ?? d.name_ru ?? id);
    const en = typeof n === 'string' ? String(d.nameEn ?? n) : String((n as Loose | undefined)?.en ?? d.nameEn ?? ru);
    return { id, okrug: String(d.okrug ?? ''), name: { ru, en } };
  }).filter((d) => d.id);
}

export function toOkrugs(raw: unknown): OkrugView[] {
  const list = (raw as Loose | null)?.okrugs;
  if (!Array.isArray(list)) return [];
  return (list as Loose[]).map((o) => {
    const n = (o.name ?? {}) as Loose;
    return { id: String(o.id ?? ''), name: { ru: String(n.ru ?? o.id), en: String(n.en ?? n.ru ?? o.id) } };
  }).filter((o) => o.id);
}
