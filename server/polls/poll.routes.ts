import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { parseOr } from '../errors.ts';
import { requireRole, requireUser } from '../auth/auth.middleware.ts';
import { pollListQuerySchema } from '../../shared/polls.ts';

const idParam = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer poll id') });
const pollId = (req: Request) => Number(parseOr(idParam, req.params, 'invalid_params', 'Invalid poll id').id);
const staffOnly = requireRole('moderator', 'admin');

/**
 * `/api/polls`: moderators create, edit (drafts), publish and close polls; residents list, read,
 * vote and see results. Handlers only parse and delegate to ctx.polls.
 */
export function pollRoutes(ctx: AppContext): Router {
  const r = Router();
  const polls = ctx.polls;

  r.get('/polls', async (req, res) => {
    const q = parseOr(pollListQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.json({ polls: await polls.list(req.user ?? null, q) });
  });

  r.post('/polls', staffOnly, async (req, res) => {
    res.status(201).json(await polls.create(req.body, req.user!));
  });

  r.get('/polls/:id', async (req, res) => {
    res.json(await polls.view(pollId(req), req.user ?? null));
  });

  r.patch('/polls/:id', staffOnly, async (req, res) => {
    res.json(await polls.update(pollId(req), req.body));
  });

  r.delete('/polls/:id', staffOnly, async (req, res) => {
    await polls.deleteDraft(pollId(req));
    res.status(204).end();
  });

  r.post('/polls/:id/publish', staffOnly, async (req, res) => {
    const id = pollId(req);
    const poll = await polls.publish(id);
    req.log?.info({ pollId: id, by: req.user!.id }, 'poll published by moderator');
    res.json(poll);
  });

  r.post('/polls/:id/close', staffOnly, async (req, res) => {
    const id = pollId(req);
    const poll = await polls.closeNow(id);
    req.log?.info({ pollId: id, by: req.user!.id }, 'poll closed early by moderator');
    res.json(poll);
  });

  r.post('/polls/:id/ballots', requireUser, async (req, res) => {
    res.status(201).json(await polls.cast(pollId(req), req.user!, req.body));
  });

  r.get('/polls/:id/results', async (req, res) => {
    res.json(await polls.resultsFor(pollId(req), req.user ?? null));
  });

  return r;
}
