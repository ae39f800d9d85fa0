import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blockHeader, foldStoredRuns, OutputFolder, renderBlocks } from '../../cli/lib/tasks/fold.js';
import type { RunState } from '../../cli/lib/tasks/printer.js';
import type { TaskRun, TaskStreamEvent } from '../../proto/rest/tasks.js';

/** Feeds a folder the events of runs that printed `out` (and `err`) and ended with `code`. */
function folded(runs: { node: string; out?: string[]; err?: string; code?: number | null; status?: RunState['status']; error?: string; ended?: boolean }[]) {
  const folder = new OutputFolder();
  const states = new Map<string, RunState>();
  for (const r of runs) {
    const runId = `run-${r.node}`;
    for (const data of r.out ?? []) folder.handle({ type: 'output', runId, node: r.node, stream: 'stdout', data });
    if (r.err) folder.handle({ type: 'output', runId, node: r.node, stream: 'stderr', data: r.err });
    const status = r.status ?? (r.code === 0 || r.code === undefined ? 'succeeded' : 'failed');
    const exitCode = r.code === undefined ? 0 : r.code;
    if (r.ended !== false) folder.handle({ type: 'exit', runId, node: r.node, status, exitCode, durationMs: 1, error: r.error ?? null } as TaskStreamEvent);
    states.set(runId, { node: r.node, status, exitCode, error: r.error ?? null });
  }
  return folder.blocks(states);
}

test('same bytes and same ending share a block; blocks go smallest first, ties by first node', () => {
  const blocks = folded([
    { node: 'web02', out: ['ok\n'] }, { node: 'web01', out: ['o', 'k\n'] }, { node: 'web03', out: ['ok\n'] },
    { node: 'web04', out: ['ok\n'], code: 1 }, { node: 'db1', out: ['other\n'] },
  ]);
  assert.equal(blocks.map(blockHeader), [
    '---- db1 (1) · succeeded, exit 0 ----',
    '---- web04 (1) · failed, exit 1 ----',
    '---- web[01-03] (3) · succeeded, exit 0 ----',
  ]);
  assert.is(blocks[2].stdout, 'ok\n', 'output split across events is the same output');
});

test('stderr counts: same stdout with other stderr is another block; the boundary between them counts too', () => {
  const blocks = folded([
    { node: 'a1', out: ['x\n'] }, { node: 'a2', out: ['x\n'], err: 'warn\n' }, { node: 'a3', out: ['x\n'] },
    { node: 'b1', out: ['ab'] }, { node: 'b2', out: ['a'], err: 'b' },
  ]);
  assert.is(blocks.length, 4);
  assert.equal(blocks.at(-1)!.nodes, ['a1', 'a3']);
  assert.is(renderBlocks(blocks.filter((b) => b.nodes[0] === 'a2'), false), '---- a2 (1) · succeeded, exit 0 ----\nx\nwarn\n');
});

test('endings without an exit code, errors, empty output and runs that did not end', () => {
  const blocks = folded([
    { node: 'n1', status: 'offline', code: null, error: 'node was offline' },
    { node: 'n2', status: 'offline', code: null, error: 'node was offline' },
    { node: 'n3', out: ['half a li'], status: 'running', code: null, ended: false },
  ]);
  assert.equal(blocks.map(blockHeader), ['---- n3 (1) · running ----', '---- n[1-2] (2) · offline, node was offline ----']);
  assert.is(renderBlocks(blocks, false), '---- n3 (1) · running ----\nhalf a li\n---- n[1-2] (2) · offline, node was offline ----\n', 'an unfinished line gets its newline');
});

test('thousands of nodes with the same output keep one copy and fold to one header', () => {
  const runs = Array.from({ length: 10_000 }, (_, i) => ({ node: `node${String(i + 1).padStart(5, '0')}`, out: ['Linux 6.8.0\n'] }));
  runs[4_241].out = ['Linux 5.15.0\n'];
  const blocks = folded(runs);
  assert.equal(blocks.map(blockHeader), ['---- node04242 (1) · succeeded, exit 0 ----', '---- node[00001-04241,04243-10000] (9999) · succeeded, exit 0 ----']);
});

const stored = (node: string, output: string, over: Partial<TaskRun> = {}): TaskRun => ({
  id: node, node, status: 'succeeded', exitCode: 0, error: null, startedAt: null, finishedAt: null, durationMs: 1,
  output, outputTruncated: false, errorCode: null, result: null, wave: 0, ...over,
});

test('tasks show folds stored runs only when two nodes share an output; truncation is part of the ending', () => {
  assert.is(foldStoredRuns([stored('a1', 'x\n'), stored('a2', 'y\n')]), undefined, 'nothing to fold: per node as before');
  const blocks = foldStoredRuns([stored('a1', 'x\n'), stored('a2', 'x\n'), stored('a3', 'x\n', { outputTruncated: true })])!;
  assert.equal(blocks.map(blockHeader), ['---- a3 (1) · succeeded, exit 0 · output truncated (the last part is kept) ----', '---- a[1-2] (2) · succeeded, exit 0 ----']);
});

test.run();
