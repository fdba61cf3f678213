import { forkBench, type Child } from './proc.ts';
import type { HttpRunSpec, HttpRunResult } from '../load/http-votes.ts';
import { progress } from './util.ts';

/** Run one autocannon load in a fresh child process and return its result. */
export async function runHttpLoad(spec: HttpRunSpec): Promise<HttpRunResult> {
  const child = forkBench('bench/load/http-votes.ts');
  try {
    await child.message('ready', 30_000);
    progress(`${spec.label}: ${spec.connections} connections, ${spec.durationSec}s${spec.overallRate ? ` at ${spec.overallRate}/s` : ', max rate'}, ${spec.voters.length} voters available`);
    child.send({ type: 'run', ...spec });
    const r = await Promise.race([
      child.message<{ type: string } & HttpRunResult>('result', (spec.durationSec + 60) * 1000),
      child.message<{ type: string; message: string }>('error', (spec.durationSec + 60) * 1000).then((e) => {
        throw new Error(`load process failed: ${e.message}`);
      }),
    ]);
    const { type: _t, ...result } = r;
    progress(
      `${spec.label}: ${result.ok} ok of ${result.sent} in ${result.durationSec.toFixed(1)}s = ${result.okPerSec.toFixed(0)}/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, statuses ${JSON.stringify(result.statuses)}${result.errors ? `, ${result.errors} errors` : ''}`,
    );
    return result;
  } finally {
    await child.stop(5_000);
  }
}

/** Start a bench child that reports {type:'listening', port}. */
export async function startListening(relPath: string, args: string[] = []): Promise<{ child: Child; port: number }> {
  const child = forkBench(relPath, args);
  const m = await child.message<{ type: string; port: number }>('listening', 30_000);
  return { child, port: m.port };
}
