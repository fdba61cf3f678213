import { Router, type Request } from 'express';
import { z } from 'zod';
import type { PollService } from './poll.service.ts';
import type { PollViews } from './poll.views.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import { parseOr } from '../errors.ts';
import { requireRole, requireUser } from '../auth/auth.middleware.ts';
import { pollListQuerySchema, pollRateQuerySchema } from '../../shared/polls.ts';

const idParam = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer poll id') });
const pollId = (req: Request) => Number(parseOr(idParam, req.params, 'invalid_params', 'Invalid poll id').id);
/** Building and running polls is the moderators' job (officials read every poll but do not edit them). */
const moderatorOnly = requireRole('moderator', 'admin');

export type PollRoutesDeps = {
  polls: Pick<PollService, 'create' | 'update' | 'deleteDraft' | 'publish' | 'closeNow'>;
  views: Pick<PollViews, 'list' | 'view' | 'resultsFor'>;
  ballots: Pick<BallotService, 'cast' | 'rate'>;
};

/**
 * `/api/polls`: moderators create, edit (drafts), publish and close polls; residents list, read,
 * vote and see results. Handlers only parse and delegate to the services.
 */
export function pollRoutes({ polls, views, ballots }: PollRoutesDeps): Router {
  const r = Router();

  r.get('/polls', async (req, res) => {
    const q = parseOr(pollListQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.json({ polls: await views.list(req.user ?? null, q) });
  });

  r.post('/polls', moderatorOnly, async (req, res) => {
    res.status(201).json(await polls.create(req.body, req.user!));
  });

  r.get('/polls/:id', async (req, res) => {
    res.json(await views.view(pollId(req), req.user ?? null));
  });

  r.patch('/polls/:id', moderatorOnly, async (req, res) => {
    res.json(await polls.update(pollId(req), req.body));
  });

  r.delete('/polls/:id', moderatorOnly, async (req, res) => {
    await polls.deleteDraft(pollId(req));
    res.status(204).end();
  });

  r.post('/polls/:id/publish', moderatorOnly, async (req, res) => {
    const id = pollId(req);
    const poll = await polls.publish(id);
    req.log?.info({ pollId: id, by: req.user!.id }, 'poll published by moderator');
    res.json(poll);
  });

  r.post('/polls/:id/close', moderatorOnly, async (req, res) => {
    const id = pollId(req);
    const poll = await polls.closeNow(id);
    req.log?.info({ pollId: id, by: req.user!.id }, 'poll closed early by moderator');
    res.json(poll);
  });

  r.post('/polls/:id/ballots', requireUser, async (req, res) => {
    res.status(201).json(await ballots.cast(pollId(req), req.user!, req.body));
  });

  r.get('/polls/:id/results', async (req, res) => {
    res.json(await views.resultsFor(pollId(req), req.user ?? null));
  });

  // participation over time, for the staff dashboard (who voted when is never exposed: counts per minute)
  r.get('/polls/:id/rate', requireRole('moderator', 'official', 'admin'), async (req, res) => {
    const id = pollId(req);
    const q = parseOr(pollRateQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.set('cache-control', 'private, no-store').json(await ballots.rate(id, q.minutes));
  });

  return r;
}
