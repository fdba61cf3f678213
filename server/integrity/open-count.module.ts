import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { createRefusalCounter } from '../ballots/refusal-counter.ts';
import { createResidentCellsStore } from '../representativeness/resident-cells.store.ts';
import { createRepresentativenessService } from '../representativeness/representativeness.service.ts';
import { createOpenCountStore } from './open-count.store.ts';
import { createIntegrityService, type OpenCountPollSource } from './integrity.service.ts';

/**
 * The open count wired from config: refusal counting, the eligible base, the representativeness panel
 * and the integrity service (built once the polls service exists: `service(polls)`).
 */
export function createOpenCount(deps: { redis: Redis; keys: Keys; config: Config; logger: Logger }) {
  const { redis, keys, config, logger } = deps;
  const store = createOpenCountStore(redis, keys);
  const residents = createResidentCellsStore(redis, keys, logger);
  const refusals = createRefusalCounter({ redis, keys, logger });
  const representativeness = createRepresentativenessService({ residents, counts: store, population: config.POPULATION, minGroup: config.RESULTS_MIN_GROUP_SIZE });
  return {
    store,
    residents,
    refusals,
    representativeness,
    service: (source: OpenCountPollSource) =>
      createIntegrityService({ source, store, representativeness, dataDir: config.DATA_DIR, prefix: config.REDIS_PREFIX, secret: config.APP_SECRET, logger }),
  };
}
