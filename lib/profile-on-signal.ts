// A CPU profile of a stretch of a running process, for benchmarks: with OPS_PROFILE_DIR set,
// SIGUSR2 starts the V8 profiler and the next SIGUSR2 writes `<dir>/<name>-<pid>-<n>.cpuprofile`
// (open it in Chrome DevTools). `node --cpu-prof` profiles the whole life of the process, where a
// benchmark wants one scenario (a fan-out, not the enrollment before it). Off unless asked for.
// OPS_PROFILE_KIND=alloc samples allocations instead (`.heapprofile`, collected objects included):
// where the garbage the collector spends its time on comes from.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import type { Logger } from './log.js';

export function profileOnSignal(name: string, log: Logger, dir = process.env.OPS_PROFILE_DIR): void {
  if (!dir) return;
  const alloc = process.env.OPS_PROFILE_KIND === 'alloc';
  let session: Session | undefined;
  let count = 0;
  process.on('SIGUSR2', () => {
    if (!session) {
      const started = session = new Session();
      started.connect();
      if (alloc) {
        const sampling = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
        started.post('HeapProfiler.enable', () => started.post('HeapProfiler.startSampling', sampling as never, () => log.warn('allocation profile started (SIGUSR2 again writes it)')));
      } else {
        started.post('Profiler.enable', () => started.post('Profiler.start', () => log.warn('CPU profile started (SIGUSR2 again writes it)')));
      }
      return;
    }
    const running = session;
    session = undefined;
    const write = (err: Error | null, profile: unknown, extension: string) => {
      if (err) log.warn({ err }, 'profile failed');
      else {
        const file = join(dir, `${name}-${process.pid}-${++count}.${extension}`);
        writeFileSync(file, JSON.stringify(profile));
        log.warn({ file }, 'profile written');
      }
      running.disconnect();
    };
    if (alloc) running.post('HeapProfiler.stopSampling', (err, result) => write(err, result?.profile, 'heapprofile'));
    else running.post('Profiler.stop', (err, result) => write(err, result?.profile, 'cpuprofile'));
  });
}
