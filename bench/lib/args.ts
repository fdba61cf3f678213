/** Command-line flags of `npm run bench`. */
export const PHASES = ['votes', 'worker', 'memory', 'processes', 'cluster', 'fanout', 'finalise', 'durability', 'redis', 'city'] as const;
export type Phase = (typeof PHASES)[number];

export type BenchOptions = {
  quick: boolean;
  only: Set<Phase>;
  /** Seconds of each measured vote-ingestion run. */
  duration: number;
  /** HTTP keep-alive connections of the load process. */
  connections: number;
  /** Watcher counts of the fan-out phase. */
  watchers: number[];
  /** Seconds of measurement per fan-out step. */
  fanoutSeconds: number;
  /** Background vote rate (votes/s) while watchers watch. */
  fanoutRate: number;
  /** The Socket.IO watchers' client: the protocol over `ws` (lean, default) or socket.io-client. */
  watchClient: 'lean' | 'socket.io-client';
  /** Ballots seeded before the finalisation phase. */
  finaliseBallots: number;
  /** Distinct voters (users + sessions) seeded for the HTTP phases. */
  voters: number;
  tickMs: number;
  /** WORKER_CONCURRENCY of the platform's worker (unset: the project's default). */
  workerConcurrency?: number;
  /** Our City: reports seeded for the list/board queries, and the intake run's connections. */
  cityReports: number;
  cityConnections: number;
  /** Write a CPU profile of the server process during vote ingestion (bench/profiles/). */
  profile: boolean;
  json: string;
};

export function parseArgs(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (flags: --quick --only=${PHASES.join(',')} --duration=s --connections=n --watchers=1000,5000 --watch-client=lean|socket.io-client --finalise=n --voters=n --tick=ms --worker-concurrency=n --city-reports=n --city-connections=n --json=path --profile)`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const quick = flags.get('quick') === 'true';
  const num = (k: string, d: number) => (flags.has(k) ? Number(flags.get(k)) : d);
  const only = new Set<Phase>();
  for (const p of (flags.get('only') ?? PHASES.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
    only.add(p as Phase);
  }
  const duration = num('duration', quick ? 3 : 10);
  const connections = num('connections', 64);
  return {
    quick,
    only,
    duration,
    connections,
    watchers: (flags.get('watchers') ?? (quick ? '200,1000' : '1000,5000,20000')).split(',').map(Number),
    fanoutSeconds: num('fanout-seconds', quick ? 3 : 8),
    fanoutRate: num('fanout-rate', 300),
    watchClient: flags.get('watch-client') === 'socket.io-client' ? 'socket.io-client' : 'lean',
    finaliseBallots: num('finalise', quick ? 20_000 : 1_000_000),
    voters: num('voters', quick ? 20_000 : 120_000),
    tickMs: num('tick', 200),
    workerConcurrency: flags.has('worker-concurrency') ? Number(flags.get('worker-concurrency')) : undefined,
    cityReports: num('city-reports', quick ? 100_000 : 1_000_000),
    cityConnections: num('city-connections', 8),
    profile: flags.get('profile') === 'true',
    json: flags.get('json') ?? 'bench/results.json',
  };
}
