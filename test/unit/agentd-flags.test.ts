// proto/agentd-flags.ts: the command line hostd builds is one agentd parses into the settings
// hostd meant, through agentd's own spec and config loader.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AGENTD_SPEC } from '../../agentd/cli-spec.js';
import { loadAgentdConfig } from '../../agentd/config.js';
import { parseDaemonArgs } from '../../lib/daemon-cli.js';
import { AGENTD_FLAGS, agentdArgs } from '../../proto/agentd-flags.js';

const launch = {
  listen: '[::1]:8442', keysFile: '/data/hostd/agent-keys.json', hostdSocket: '/data/hostd/hostd.sock',
  pidFile: '/data/hostd/agentd.pid', maxConcurrent: 4, logLevel: 'debug',
};

test('agentd declares exactly the shared flags, each once', () => {
  assert.equal(AGENTD_SPEC.flags, [...AGENTD_FLAGS]);
  const names = AGENTD_FLAGS.map((f) => f.name);
  assert.is(new Set(names).size, names.length);
});

test('what hostd passes is what agentd reads', () => {
  const args = agentdArgs(launch);
  assert.equal(args, [
    '--listen', '[::1]:8442', '--keys-file', '/data/hostd/agent-keys.json', '--hostd-socket', '/data/hostd/hostd.sock',
    '--pid-file', '/data/hostd/agentd.pid', '--max-concurrent', '4', '--log-level', 'debug',
  ]);
  const { configFlags } = parseDaemonArgs(AGENTD_SPEC, args);
  const cfg = loadAgentdConfig(undefined, configFlags, {});
  assert.is(cfg.http.listen, launch.listen);
  assert.is(cfg.auth.keysFile, launch.keysFile);
  assert.is(cfg.hostd.socket, launch.hostdSocket);
  assert.is(cfg.pidFile, launch.pidFile);
  assert.is(cfg.tasks.maxConcurrent, 4);
  assert.is(cfg.log.level, 'debug');
});

test.run();
