// Folded output, like ClusterShell's `clubak -b`: nodes that printed exactly the same thing and
// ended the same way are shown once, under a header naming them as a node set,
//
//   ---- web[01-40,42] (41) · succeeded, exit 0 ----
//
// so a task on 10,000 hosts reads as a few blocks. The blocks go smallest first: the odd node is
// on top and the common case is the last thing on screen. `tasks run` collects the output while
// the task runs (OutputFolder) and `tasks show` folds the runs it fetched (foldStoredRuns).
import { createHash } from 'node:crypto';
import { foldNodeSet } from '../../../proto/nodeset.js';
import type { RunStatus, TaskRun, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { isTerminal } from '../../../proto/task-status.js';
import { paint } from '../format.js';
import type { RunState } from './printer.js';

const BOLD = '\x1b[1m';

/** How a run ended, as the header tells it: "succeeded, exit 0", "error: bash not installed". */
export interface Ending { status: RunStatus; exitCode: number | null; error: string | null }

export interface FoldedBlock extends Ending {
  nodes: string[];
  stdout: string;
  stderr: string;
  /** Only what the manager kept: the tail (tasks show). */
  truncated?: boolean;
}

function endingText(e: Ending, truncated = false): string {
  const parts: string[] = [e.status];
  if (e.exitCode !== null) parts.push(`exit ${e.exitCode}`);
  if (e.error) parts.push(e.error);
  const text = parts.join(', ');
  return truncated ? `${text} · output truncated (the last part is kept)` : text;
}

export function blockHeader(block: FoldedBlock): string {
  return `---- ${foldNodeSet(block.nodes)} (${block.nodes.length}) · ${endingText(block, block.truncated)} ----`;
}

/** Blocks of runs with the same ending and output: smallest first, the largest last; ties by first node. */
function blocksOf<T>(items: T[], keyOf: (item: T) => string, make: (item: T) => Omit<FoldedBlock, 'nodes'>, nodeOf: (item: T) => string): FoldedBlock[] {
  const blocks = new Map<string, FoldedBlock>();
  for (const item of items) {
    const key = keyOf(item);
    const block = blocks.get(key);
    if (block) block.nodes.push(nodeOf(item));
    else blocks.set(key, { ...make(item), nodes: [nodeOf(item)] });
  }
  const sorted = [...blocks.values()];
  for (const b of sorted) b.nodes.sort();
  return sorted.sort((a, b) => a.nodes.length - b.nodes.length || (a.nodes[0] < b.nodes[0] ? -1 : a.nodes[0] > b.nodes[0] ? 1 : 0));
}

/** Lines ending in a newline (one added to an unfinished last line), without a trailing \r each, like TaskPrinter. */
function asLines(text: string): string {
  if (text === '') return '';
  return text.replace(/\n$/, '').split('\n').map((l) => `${l.replace(/\r$/, '')}\n`).join('');
}

/**
 * Header, standard output, then standard error, all on `out`: a block is one unit, and its stderr
 * on another stream could not say whose it was without the header (clubak reads `2>&1` too).
 */
export function printBlocks(blocks: FoldedBlock[], out: { write(s: string): unknown }, colour: boolean): void {
  for (const block of blocks) out.write(`${paint(blockHeader(block), BOLD, colour)}\n${asLines(block.stdout)}${asLines(block.stderr)}`);
}

/** Length-prefixed, so stdout "ab" + stderr "" is not stdout "a" + stderr "b". */
function contentKey(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(`${Buffer.byteLength(p)}:`).update(p);
  return hash.digest('base64');
}

interface Content { stdout: string; stderr: string }

/**
 * Collects each run's output from the task's events. A run's output is kept whole only while it
 * runs: once it ends it is filed under the digest of its bytes, so 10,000 nodes printing the same
 * thing keep one copy.
 */
export class OutputFolder {
  private running = new Map<string, Content>();
  private contentOf = new Map<string, string>();
  private byDigest = new Map<string, Content>();

  handle(ev: TaskStreamEvent): void {
    if (ev.type === 'output') {
      const c = this.running.get(ev.runId) ?? { stdout: '', stderr: '' };
      c[ev.stream] += ev.data;
      this.running.set(ev.runId, c);
    } else if (ev.type === 'exit') {
      this.file(ev.runId);
    }
  }

  private file(runId: string): void {
    const c = this.running.get(runId) ?? { stdout: '', stderr: '' };
    this.running.delete(runId);
    const digest = contentKey(c.stdout, c.stderr);
    if (!this.byDigest.has(digest)) this.byDigest.set(digest, c);
    this.contentOf.set(runId, digest);
  }

  /** The blocks for the runs as they stand (runs that did not end are folded with what they printed so far). */
  blocks(runs: Map<string, RunState>): FoldedBlock[] {
    for (const runId of [...this.running.keys()]) this.file(runId);
    const empty = contentKey('', '');
    const items = [...runs.entries()].map(([runId, r]) => ({ r, digest: this.contentOf.get(runId) ?? empty }));
    return blocksOf(items,
      ({ r, digest }) => `${r.status}\u0000${r.exitCode}\u0000${r.error ?? ''}\u0000${digest}`,
      ({ r, digest }) => ({ status: r.status, exitCode: r.exitCode, error: r.error, ...(this.byDigest.get(digest) ?? { stdout: '', stderr: '' }) }),
      ({ r }) => r.node);
  }
}

/**
 * The stored runs of a task folded (tasks show), or undefined when no two nodes share an output:
 * then the per-node view says the same with less noise. A run's stored output mixes both streams.
 */
export function foldStoredRuns(runs: TaskRun[]): FoldedBlock[] | undefined {
  const blocks = blocksOf(runs,
    (r) => `${r.status}\u0000${r.exitCode}\u0000${r.error ?? ''}\u0000${r.outputTruncated}\u0000${contentKey(r.output)}`,
    (r) => ({ status: r.status, exitCode: r.exitCode, error: r.error, stdout: r.output, stderr: '', truncated: r.outputTruncated }),
    (r) => r.node);
  return blocks.some((b) => b.nodes.length > 1) ? blocks : undefined;
}

/** The blocks as text, for views rendered to one string (tasks show). */
export function renderBlocks(blocks: FoldedBlock[], colour: boolean): string {
  let text = '';
  printBlocks(blocks, { write: (s: string) => { text += s; } }, colour);
  return text;
}

/**
 * "12/41 done" on standard error while a folded task runs, rewritten in place on a terminal and
 * cleared at the end; at most every PROGRESS_EVERY_MS, so 10,000 exits do not flood the terminal.
 */
const PROGRESS_EVERY_MS = 100;

export class FoldProgress {
  private lastDrawn = 0;
  private shown = false;

  constructor(private readonly stderr: { write(s: string): unknown }) {}

  update(runs: Map<string, RunState>, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDrawn < PROGRESS_EVERY_MS) return;
    this.lastDrawn = now;
    const done = [...runs.values()].filter((r) => isTerminal(r.status) || r.status === 'queued').length;
    this.stderr.write(`\r\x1b[K${done}/${runs.size} done`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
