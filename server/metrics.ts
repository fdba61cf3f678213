import { Registry, collectDefaultMetrics, Counter, Histogram, Gauge } from 'prom-client';

/** One prom-client registry per process (not the global one, so tests can build several apps). */
export function createMetrics(processName: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'ac_http_requests_total',
      help: 'HTTP requests by route and status class',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'ac_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    socketsConnected: new Gauge({ name: 'ac_sockets_connected', help: 'Connected Socket.IO clients', registers: [registry] }),
    /** Restarts of `npm start`'s supervised children (redis, server, worker), as its supervisor reports them. */
    supervisedRestarts: new Gauge({
      name: 'ac_supervised_restarts',
      help: 'Times the npm start supervisor restarted a child since it started (redis, server, worker)',
      labelNames: ['child'] as const,
      registers: [registry],
    }),
    integrityAlarms: new Counter({
      name: 'ac_integrity_alarms_total',
      help: 'Finalisation cross-check mismatches (tallies vs ledger vs voter marks)',
      labelNames: ['poll'] as const,
      registers: [registry],
    }),
    cityEscalations: new Counter({
      name: 'ac_city_escalations_total',
      help: 'Our City reports that passed their answer deadline unanswered (once per deadline)',
      labelNames: ['category'] as const,
      registers: [registry],
    }),
    cityReminders: new Counter({ name: 'ac_city_reminders_total', help: 'Our City deadline reminders sent to organisations (once per deadline)', registers: [registry] }),
    citySteps: new Counter({ name: 'ac_city_steps_total', help: 'Our City report lifecycle steps taken', labelNames: ['step'] as const, registers: [registry] }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
