// Every byte keeps the label of the pipe it came from: a fast `echo out; echo err >&2`, run many
// times (sequentially and many at once) through a real agentd's signed HTTP API, must always give
// `out` on stdout and `err` on stderr, however the two pipes' reads interleave.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { request } from 'undici';
import { AGENT_API, type AgentExecEvent } from '../../proto/agent-api.js';
import { signedHeaders, tempDir, writeKeysFile } from './helpers/fixtures.js';
import { startServingAgentd, type AgentdProcess } from './helpers/agentd-process.js';

const dir = tempDir();
let agentd: AgentdProcess | undefined;
let baseUrl = '';

test.before(async () => {
  ({ agentd, baseUrl } = await startServingAgentd(['--keys-file', writeKeysFile(dir), '--max-concurrent', '20']));
});
test.after(async () => {
  await agentd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function runOnce(runId: string): Promise<{ stdout: string; stderr: string; status: string }> {
  const body = JSON.stringify({ runId, kind: 'script', params: { script: 'echo out; echo err >&2' } });
  const res = await request(`${baseUrl}${AGENT_API.exec}`, { method: 'POST', body, headers: signedHeaders('POST', AGENT_API.exec, body) });
  assert.is(res.statusCode, 200);
  const events = (await res.body.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AgentExecEvent);
  const text = (stream: 'stdout' | 'stderr') => events.flatMap((e) => (e.type === 'output' && e.stream === stream ? [e.data] : [])).join('');
  const exit = events[events.length - 1];
  return { stdout: text('stdout'), stderr: text('stderr'), status: exit.type === 'exit' ? exit.status : `last event ${exit.type}` };
}

test('200 runs of `echo out; echo err >&2`: out always on stdout, err always on stderr', async () => {
  const runs = 200;
  const parallel = 20;
  const wrong: string[] = [];
  // Half one at a time, half in batches of `parallel`, so both a quiet and a busy agentd are seen.
  for (let i = 0; i < runs; ) {
    const batch = i < runs / 2 ? 1 : parallel;
    const ids = Array.from({ length: Math.min(batch, runs - i) }, (_, k) => `labels-${i + k}`);
    i += ids.length;
    for (const [k, r] of (await Promise.all(ids.map(runOnce))).entries()) {
      if (r.stdout !== 'out\n' || r.stderr !== 'err\n' || r.status !== 'succeeded') wrong.push(`${ids[k]}: ${JSON.stringify(r)}`);
    }
  }
  assert.equal(wrong, [], `${wrong.length} of ${runs} runs mislabelled:\n${wrong.slice(0, 5).join('\n')}`);
});

test.run();
