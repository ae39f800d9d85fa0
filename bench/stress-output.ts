// Stress test for "nothing lost" on the task output path: starts a real manager, hostd and agentd
// on loopback (scripts/local-stack.ts) and runs many short tasks, half through the real opsctl CLI
// (`opsctl tasks run --all -- ...`) and half through REST (POST /tasks, the SSE event stream, then
// GET /tasks/:id until it is no longer running). For every run it checks:
//   - the exit code is 0 and the task succeeded;
//   - the output stored on the manager (GET /tasks/:id) is exactly what the command printed;
//   - the CLI printed exactly the expected `node: line` (CLI runs);
//   - the SSE stream delivered the output before the run's `exit` and `done`, once, in order (REST runs).
// Bounded: stops launching after --max-seconds (default 150) and hard-exits after that plus 60 s;
// loopback only; everything lives in a temp dir that is removed at the end (kept with --keep).
//
// Usage: npm run build && node dist/bench/stress-output.js [--tasks 300] [--concurrency 8] [--max-seconds 150] [--log-level debug] [--keep]
//    or: npm run build && node --import tsx bench/stress-output.ts [...]   (the processes always run dist/)
// Exit code 0 when every run passed, 1 otherwise (the first failures are printed in full).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TaskDetail, TaskStreamEvent, TaskSummary } from '../proto/rest/tasks.js';
import { api, runBin, startLocalStack, type BinRun, type LocalStack } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';

const { values } = parseArgs({ options: {
  tasks: { type: 'string', default: '300' },
  concurrency: { type: 'string', default: '8' },
  'max-seconds': { type: 'string', default: '150' },
  keep: { type: 'boolean', default: false },
  'log-level': { type: 'string', default: 'info' },
} });
const TASKS = Number(values.tasks);
const CONCURRENCY = Number(values.concurrency);
const MAX_SECONDS = Number(values['max-seconds']);

const hardStop = setTimeout(() => {
  console.error(`stress-output: still running ${MAX_SECONDS + 60} s after the start; giving up`);
  process.exit(2);
}, (MAX_SECONDS + 60) * 1000);
hardStop.unref();

const dataDir = mkdtempSync(join(tmpdir(), 'ops-stress-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-stress-cfg-'));
const NODE = 'stress-node';
const UNAME = execFileSync('uname', ['-a'], { encoding: 'utf8' });

interface Outcome { i: number; via: 'cli' | 'rest'; ok: boolean; problems: string[]; detail?: unknown }

function opsctl(args: string[], timeoutMs = 60_000): Promise<BinRun> {
  return runBin('opsctl', args, { ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: '', OPSCTL_TOKEN: '', NO_COLOR: '1', FORCE_COLOR: '0' }, timeoutMs);
}

/** The command of run i and what it prints. Every script is unique so the CLI's task can be found by it. */
function job(i: number): { words: string[]; script: string; expected: string } {
  if (i % 2 === 0) return { words: ['echo', `hello-${i}`], script: `echo hello-${i}`, expected: `hello-${i}\n` };
  // `# i` is a comment for the shell: the same command as `uname -a`, but a unique task script.
  return { words: ['uname', '-a', '#', String(i)], script: `uname -a # ${i}`, expected: UNAME };
}

async function waitFinished(stack: LocalStack, id: string): Promise<TaskDetail> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await api<TaskDetail>(stack.httpUrl, stack.token, 'GET', `/tasks/${id}`);
    if (res.status !== 200) throw new Error(`GET /tasks/${id}: HTTP ${res.status} ${res.body.message}`);
    if (res.body.data.status !== 'running') return res.body.data;
    if (Date.now() > deadline) throw new Error(`task ${id} still running after 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function checkStored(task: TaskDetail, expected: string, problems: string[]): void {
  if (task.status !== 'succeeded') problems.push(`task status ${task.status}`);
  const run = task.runs[0];
  if (!run) { problems.push('task has no run'); return; }
  if (run.exitCode !== 0) problems.push(`run exit code ${run.exitCode}`);
  if (run.output !== expected) problems.push(`stored output ${JSON.stringify(run.output)} != ${JSON.stringify(expected)}`);
}

async function viaCli(stack: LocalStack, i: number): Promise<Outcome> {
  const { words, expected } = job(i);
  const problems: string[] = [];
  const r = await opsctl(['tasks', 'run', '--all', '--', ...words]);
  if (r.code !== 0) problems.push(`opsctl exit code ${r.code}`);
  const want = expected.split('\n').filter((l, k, a) => k < a.length - 1 || l !== '').map((l) => `${NODE}: ${l}`).join('\n') + '\n';
  if (r.stdout !== want) problems.push(`CLI stdout ${JSON.stringify(r.stdout)} != ${JSON.stringify(want)}`);
  if (!/1 succeeded/.test(r.stderr)) problems.push(`CLI summary: ${JSON.stringify(r.stderr)}`);
  // Find the task by its (unique) script and check what the manager stored.
  const script = words.join(' ');
  const list = await api<TaskSummary[]>(stack.httpUrl, stack.token, 'GET', '/tasks?limit=200');
  const summary = list.body.data.find((t) => t.script === script);
  if (!summary) problems.push(`task with script ${JSON.stringify(script)} not found`);
  else checkStored(await waitFinished(stack, summary.id), expected, problems);
  return { i, via: 'cli', ok: problems.length === 0, problems, detail: problems.length ? { stdout: r.stdout, stderr: r.stderr } : undefined };
}

async function readEvents(stack: LocalStack, id: string): Promise<TaskStreamEvent[]> {
  const res = await fetch(`${stack.httpUrl}/api/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${stack.token}`, accept: 'text/event-stream' }, signal: AbortSignal.timeout(60_000) });
  if (!res.ok || !res.body) throw new Error(`GET /tasks/${id}/events: HTTP ${res.status}`);
  const events: TaskStreamEvent[] = [];
  const text = await res.text();
  for (const block of text.split('\n\n')) {
    const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    if (data) events.push(JSON.parse(data) as TaskStreamEvent);
  }
  return events;
}

async function viaRest(stack: LocalStack, i: number): Promise<Outcome> {
  const { script, expected } = job(i);
  const problems: string[] = [];
  const created = await api<TaskDetail>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { all: true }, script });
  if (created.status !== 201) return { i, via: 'rest', ok: false, problems: [`POST /tasks: HTTP ${created.status} ${created.body.message}`] };
  const id = created.body.data.id;
  const events = await readEvents(stack, id);
  const types = events.map((e) => e.type);
  const output = events.filter((e): e is Extract<TaskStreamEvent, { type: 'output' }> => e.type === 'output').map((e) => e.data).join('');
  if (output !== expected) problems.push(`SSE output ${JSON.stringify(output)} != ${JSON.stringify(expected)}`);
  const exitAt = types.indexOf('exit');
  if (exitAt < 0 || types.lastIndexOf('output') > exitAt) problems.push(`SSE order: ${types.join(',')}`);
  if (types[types.length - 1] !== 'done' || types.filter((t) => t === 'exit').length !== 1) problems.push(`SSE events: ${types.join(',')}`);
  checkStored(await waitFinished(stack, id), expected, problems);
  return { i, via: 'rest', ok: problems.length === 0, problems, detail: problems.length ? { events } : undefined };
}

async function main(): Promise<number> {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  console.error(`stress-output: starting a local stack in ${dataDir}`);
  const stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: NODE, logLevel: values['log-level'] });
  const outcomes: Outcome[] = [];
  try {
    const login = await opsctl(['login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', stack.admin.password]);
    if (login.code !== 0) throw new Error(`opsctl login failed: ${login.stderr}`);
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < TASKS && Date.now() - started < MAX_SECONDS * 1000) {
        const i = next++;
        // Alternate CLI and REST in pairs so both kinds see echo and uname.
        const via = Math.floor(i / 2) % 2 === 0 ? viaCli : viaRest;
        try {
          outcomes.push(await via(stack, i));
        } catch (err) {
          outcomes.push({ i, via: via === viaCli ? 'cli' : 'rest', ok: false, problems: [(err as Error).message] });
        }
        if (outcomes.length % 50 === 0) console.error(`  ${outcomes.length} runs, ${outcomes.filter((o) => !o.ok).length} failed`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;
    const failed = outcomes.filter((o) => !o.ok);
    for (const f of failed.slice(0, 10)) console.error(`FAIL #${f.i} (${f.via}): ${f.problems.join('; ')}\n  ${JSON.stringify(f.detail)}`);
    const by = (v: 'cli' | 'rest') => `${outcomes.filter((o) => o.via === v && o.ok).length}/${outcomes.filter((o) => o.via === v).length}`;
    console.log(`stress-output: ${outcomes.length} runs in ${seconds.toFixed(1)} s (concurrency ${CONCURRENCY}): cli ${by('cli')} ok, rest ${by('rest')} ok; ${failed.length} failed`);
    if (outcomes.length < TASKS) console.log(`stress-output: stopped after ${MAX_SECONDS} s with ${TASKS - outcomes.length} runs not started`);
    if (failed.length && values.keep) console.log(`stress-output: logs kept in ${stack.logDir}`);
    return failed.length === 0 && outcomes.length > 0 ? 0 : 1;
  } finally {
    await stack.stop();
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
    rmSync(configHome, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(`stress-output: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
