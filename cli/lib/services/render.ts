// How `opsctl services` shows where each node's service stands: one line per node — the node, the
// service's state (or, when there is none, how the run ended) and the error if any. Aligned and
// coloured on a terminal (active green, failed red), tab-separated otherwise for cut and awk.
import { GREEN, paint, RED } from '../format.js';
import type { ServiceRun } from './service-task.js';

const STATE_COLOURS: Record<string, string> = { active: GREEN, failed: RED, error: RED, timeout: RED };

/** The state column: the service's state when agentd reported one, else the run's status. */
export function stateOf(run: ServiceRun): string {
  return run.result?.state ?? run.status;
}

export function renderServiceStates(runs: ServiceRun[], ctx: { tty: boolean; colour: boolean }): string {
  const oneLine = (s: string | null) => (s ?? '').replace(/[\t\r\n]+/g, ' ');
  if (!ctx.tty) return runs.map((r) => `${r.node}\t${stateOf(r)}\t${oneLine(r.error)}\n`).join('');
  const nodeWidth = Math.max(...runs.map((r) => r.node.length));
  const stateWidth = Math.max(...runs.map((r) => stateOf(r).length));
  return runs.map((r) => {
    const state = stateOf(r);
    const shown = paint(state, STATE_COLOURS[state] ?? '', ctx.colour && state in STATE_COLOURS) + ' '.repeat(stateWidth - state.length);
    return `${r.node.padEnd(nodeWidth)}  ${shown}  ${oneLine(r.error)}`.trimEnd() + '\n';
  }).join('');
}
