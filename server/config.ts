import { z } from 'zod';
import { readPopulationFile, type PopulationRow } from './representativeness/population-file.ts';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const dates = csv.pipe(z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates like 2026-05-01')));

/** Every environment variable the platform reads, in one place. Nothing else reads process.env. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(3000),
  /** redis://host:port/db; unset under `npm start` means "start a private redis-server". */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  /** Prefix of every key this deployment writes; tests give each file its own. Must not contain braces. */
  REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]{0,40}$/, 'letters, digits, : _ - only').default('ac:'),
  DATA_DIR: z.string().min(1).default('./data'),
  /** postgres://user:pass@host:5432/db; unset under `npm start` means "start a private PostgreSQL" (data in DATA_DIR/postgres). */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  /** Connections per process in the PostgreSQL pool. */
  DATABASE_POOL_MAX: int(1, 200).default(10),
  /** How long a request waits for a database connection before answering 503 `unavailable`. */
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 60_000).default(2_000),
  /** Our City: new reports a resident may file per day (more gets 429 + Retry-After). */
  CITY_REPORTS_PER_DAY: int(1, 10_000).default(10),
  /** Our City's safety-net sweep period (missed escalations, auto-close, unpaid points, orphan files). */
  CITY_SWEEP_MS: int(1_000, 3_600_000).default(60_000),
  /** How often the worker writes finalised polls that could not reach the PostgreSQL archive at finalisation. */
  ARCHIVE_SWEEP_MS: int(1_000, 3_600_000).default(60_000),
  /** Our City photos on disk (by content hash); default DATA_DIR/photos. */
  PHOTO_DIR: z.string().min(1).optional(),
  /** AOF fsync policy of the private redis-server: `always` loses nothing acknowledged; `everysec` up to ~1 s. */
  REDIS_APPENDFSYNC: z.enum(['always', 'everysec']).default('always'),
  /** Redis Sentinel instead of REDIS_URL: `host:port,host:port,…`; clients follow the master named REDIS_SENTINEL_NAME. */
  REDIS_SENTINELS: csv.pipe(z.array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'host:port entries'))).optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, _ . - only').default('mymaster'),
  /** A command on the API's connection that gets no answer within this fails the request with 503 (a hung or overloaded Redis). */
  REDIS_COMMAND_TIMEOUT_MS: int(100, 60_000).default(500),
  /** Replicas that must hold a ballot before its 201 (Redis WAIT after the cast script); 0 = answer once the master has it. */
  REDIS_WAIT_REPLICAS: int(0, 16).default(0),
  /** How long the vote path waits for REDIS_WAIT_REPLICAS before answering 503 (the retry gets 409 with the receipt). */
  REDIS_WAIT_TIMEOUT_MS: int(10, 10_000).default(250),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.default(false),
  /** Public origin(s) of the web app; state-changing requests and socket handshakes must come from one. */
  ALLOWED_ORIGINS: csv.optional(),
  TRUST_PROXY: bool.default(false),
  /**
   * Server processes on the one port (node:cluster): `auto` = one per core. Each has its own live-results
   * broadcaster; targeted socket events cross processes through the Redis adapter. Socket.IO long-polling
   * needs sticky sessions, so with more than one process the server speaks WebSocket only; and connection
   * state recovery is per process (a socket that reconnects to another one re-watches instead), which is
   * why the default is one.
   */
  SERVER_PROCESSES: z.union([z.literal('auto'), int(1, 256)]).default(1),
  /** Live-results ticker period. */
  TICK_MS: int(20, 10_000).default(200),
  SHUTDOWN_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Secret used for keyed hashes (ballot receipts, ledger voter hashes). Required in production. */
  APP_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  // identity
  OTP_SENDER: z.enum(['log', 'webhook']).default('log'),
  OTP_WEBHOOK_URL: z.url().optional(),
  OTP_TTL_SECONDS: int(30, 3600).default(300),
  OTP_MAX_ATTEMPTS: int(1, 20).default(5),
  OTP_PER_PHONE_PER_HOUR: int(1, 1000).default(5),
  OTP_PER_IP_PER_HOUR: int(1, 100_000).default(30),
  ADMIN_PHONES: csv.default([]),
  SESSION_IDLE_SECONDS: int(60, 90 * 86400).default(7 * 86400),
  SESSION_ABSOLUTE_SECONDS: int(60, 365 * 86400).default(30 * 86400),
  /** Session -> user kept in process this long (dropped at once on sign-out, profile or role change); 0 = off. */
  SESSION_CACHE_MS: int(0, 60_000).default(3_000),
  // polls
  /** Breakdown groups (district, age band) smaller than this are merged into "other" (anonymity). */
  RESULTS_MIN_GROUP_SIZE: int(1, 10_000).default(5),
  /** Official population figures (CSV district,age_band,gender,count) for the representativeness panel. */
  POPULATION_FILE: z.string().min(1).optional(),
  // workers
  /** How often a worker checks for stalled jobs (a killed worker's active jobs re-run after this). */
  WORKER_STALLED_INTERVAL_MS: int(500, 600_000).default(15_000),
  WORKER_CONCURRENCY: int(1, 256).default(64),
  /** Vote points are awarded in batches per poll shard: the wait that lets a batch fill after its first ballot. */
  AWARD_BATCH_DELAY_MS: int(0, 60_000).default(100),
  /** Voters taken from a shard's pending set per award step (pipelined single-slot awards). */
  AWARD_BATCH_SIZE: int(1, 50_000).default(2_000),
  /** Period of the repeatable safety net that drains pending sets whose batch job was lost, and crashed batches. */
  AWARD_SWEEP_EVERY_MS: int(1_000, 3_600_000).default(10_000),
  /** A redemption left half-done by a crash is settled (sold or refunded) after this age. */
  REDEMPTION_RECONCILE_AFTER_MS: int(1_000, 86_400_000).default(60_000),
  // decisions
  ANSWER_DEADLINE_WORKING_DAYS: int(1, 60).default(8),
  /** Extra non-working dates (YYYY-MM-DD, comma-separated) on top of the built-in Russian federal holidays. */
  PUBLIC_HOLIDAYS: dates.default([]),
  /** Weekend dates that are working days after a transfer (YYYY-MM-DD, comma-separated). */
  WORKING_WEEKENDS: dates.default([]),
  /** The city's offset from UTC in minutes: deadlines end at local midnight (Moscow +180). */
  CITY_UTC_OFFSET_MINUTES: int(-720, 840).default(180),
  /** Voter-bitmap bits per notification fan-out chunk (one pipeline of inbox writes per chunk). */
  NOTIFY_CHUNK_BITS: int(8, 1 << 22).default(65_536),
  /** Pause between fan-out chunks (ms): 0 = as fast as Redis takes it. */
  NOTIFY_CHUNK_PAUSE_MS: int(0, 10_000).default(0),
});

export type Config = Readonly<
  Omit<z.infer<typeof configSchema>, 'ALLOWED_ORIGINS' | 'APP_SECRET'> & {
    ALLOWED_ORIGINS: string[];
    APP_SECRET: string;
    /** POPULATION_FILE's rows, read and validated at start-up; null when it is not set. */
    POPULATION: readonly PopulationRow[] | null;
  }
>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parse once; a bad value throws ConfigError with one clear line naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const r = configSchema.safeParse(cleaned);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const c = r.data;
  if (c.NODE_ENV === 'production' && !c.APP_SECRET) {
    throw new ConfigError('invalid configuration: APP_SECRET: required when NODE_ENV=production');
  }
  if (c.OTP_SENDER === 'webhook' && !c.OTP_WEBHOOK_URL) {
    throw new ConfigError('invalid configuration: OTP_WEBHOOK_URL: required when OTP_SENDER=webhook');
  }
  if (c.REDIS_SENTINELS?.length && c.REDIS_URL) {
    throw new ConfigError('invalid configuration: REDIS_URL: set either REDIS_URL or REDIS_SENTINELS, not both');
  }
  if (c.REDIS_WAIT_REPLICAS > 0 && c.REDIS_WAIT_TIMEOUT_MS >= c.REDIS_COMMAND_TIMEOUT_MS) {
    throw new ConfigError('invalid configuration: REDIS_WAIT_TIMEOUT_MS: must be below REDIS_COMMAND_TIMEOUT_MS');
  }
  const origins = c.ALLOWED_ORIGINS ?? [`http://localhost:${c.PORT}`, `http://127.0.0.1:${c.PORT}`];
  for (const o of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`invalid configuration: ALLOWED_ORIGINS: "${o}" is not an origin like https://example.org`);
  }
  let population: PopulationRow[] | null = null;
  if (c.POPULATION_FILE) {
    try {
      population = readPopulationFile(c.POPULATION_FILE);
    } catch (err) {
      throw new ConfigError(`invalid configuration: POPULATION_FILE: ${(err as Error).message}`);
    }
  }
  return Object.freeze({
    ...c,
    POPULATION: population,
    ALLOWED_ORIGINS: origins,
    APP_SECRET: c.APP_SECRET ?? 'dev-only-secret-change-me-in-production',
  });
}
