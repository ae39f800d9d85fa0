// `release status --watch` and `release rollout --watch`: the rollout redrawn in place on a
// terminal (once a second), or one line per change when piped, until it ends. A rollout that ends
// halted, or with a failed host, is a failure (exit 1).
import type { RolloutDetail } from '../../../proto/rest/releases.js';
import { rolloutEnded } from '../../../proto/rollouts.js';
import type { ApiClient } from '../api-client.js';
import { renderRollout } from './render.js';

const POLL_MS = 1000;

export const rolloutSucceeded = (r: RolloutDetail): boolean =>
  (r.state === 'completed' || r.state === 'rolled-back') && r.hosts.every((h) => h.state !== 'failed');

function summary(r: RolloutDetail): string {
  const count = (s: string) => r.hosts.filter((h) => h.state === s).length;
  return `${new Date().toISOString()}\t${r.id}\t${r.state}\twave ${r.currentWave}\tcommitted ${count('committed')}/${r.hosts.length}\tfailed ${count('failed')}\treverted ${count('reverted')}`;
}

export async function watchRollout(api: ApiClient, id: string, out: { write(text: string): void; tty: boolean }): Promise<RolloutDetail> {
  let drawnLines = 0;
  let last = '';
  for (;;) {
    const r = await api.get<RolloutDetail>(`/rollouts/${encodeURIComponent(id)}`);
    if (out.tty) {
      const text = renderRollout(r, { tty: true });
      // Back over the previous drawing, then clear to the end of the screen.
      out.write(`${drawnLines ? `\x1b[${drawnLines}A\r` : ''}\x1b[J${text}`);
      drawnLines = text.split('\n').length - 1;
    } else {
      const line = summary(r);
      const key = line.slice(line.indexOf('\t'));
      if (key !== last) { out.write(line + '\n'); last = key; }
    }
    if (rolloutEnded(r.state)) return r;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
