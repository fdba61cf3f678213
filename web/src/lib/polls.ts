/**
 * The poll as the web app shows it. Issue 4 owns the API shape (shared/polls.ts); `toPollView` is the one
 * place that maps it, so a change there is a change here only.
 */
import type { PollStatus } from '$shared/polls.ts';

export type QuestionView = { id: string; text: string; kind: 'single' | 'multiple'; required: boolean; options: { id: string; text: string }[] };
export type PollView = {
  id: number;
  title: string;
  description: string;
  status: PollStatus;
  opensAt: string | null;
  closesAt: string | null;
  points: number;
  questions: QuestionView[];
  voted: boolean;
  audience: { districts: string[]; ageMin: number | null; ageMax: number | null };
};

type Loose = Record<string, unknown>;
const str = (v: unknown, d = '') => (typeof v === 'string' ? v : d);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function toPollView(raw: unknown): PollView {
  const p = (raw ?? {}) as Loose;
  const audience = (p.audience ?? p.targeting ?? {}) as Loose;
  const questions = Array.isArray(p.questions) ? (p.questions as Loose[]) : [];
  return {
    id: Number(p.id),
    title: str(p.title),
    description: str(p.description),
    status: str(p.status, 'draft') as PollStatus,
    opensAt: str(p.opensAt) || null,
    closesAt: str(p.closesAt) || null,
    points: num(p.points) ?? 0,
    voted: Boolean(p.voted ?? p.hasVoted),
    questions: questions.map((q, i) => ({
      id: str(q.id, String(i)),
      text: str(q.text ?? q.title),
      kind: q.kind === 'multiple' || q.type === 'multiple' || q.multiple === true ? 'multiple' : 'single',
      required: q.required !== false,
      options: (Array.isArray(q.options) ? (q.options as Loose[]) : []).map((o, j) => ({ id: str(o.id, String(j)), text: str(o.text ?? o.label) })),
    })),
    audience: {
      districts: Array.isArray(audience.districts) ? (audience.districts as string[]) : [],
      ageMin: num(audience.ageMin ?? audience.minAge),
      ageMax: num(audience.ageMax ?? audience.maxAge),
    },
  };
}

export function toPollList(raw: unknown): PollView[] {
  const list = Array.isArray(raw) ? raw : ((raw as Loose | null)?.polls ?? (raw as Loose | null)?.items ?? []);
  return (list as unknown[]).map(toPollView);
}
