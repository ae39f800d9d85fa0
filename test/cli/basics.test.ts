// opsctl's surface: version, help, and usage errors (exit 2, nothing sent to the real manager).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, root } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;
const run = (args: string[]) => opsctl(home, args, { env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token } });

test.before(async () => {
  ensureBuilt();
  m = await startManager();
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

test('--version prints name, version, platform and node version', async () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const r = await run(['--version']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `opsctl/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  assert.is(r.stderr, '');
});

test('--help lists the topics and commands', async () => {
  const r = await run(['--help']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /TOPICS\n\s+audit\s+Read and verify the audit log\n\s+clients\s+OAuth2 clients/);
  for (const topic of ['nodes', 'roles', 'tasks', 'tokens', 'users']) assert.match(r.stdout, new RegExp(`\\n  ${topic}\\s+[A-Z]`), topic);
  for (const cmd of ['login', 'logout', 'passwd', 'whoami', 'server', 'nodes', 'tasks', 'help']) assert.match(r.stdout, new RegExp(`\\n  ${cmd}\\s`), cmd);
});

test('help TOPIC COMMAND shows the command with its examples', async () => {
  const r = await run(['help', 'tasks', 'run']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /USAGE\n\s+\$ opsctl tasks run/);
  assert.match(r.stdout, /EXAMPLES\n\s+\$ opsctl tasks run --all -- uptime/);
  const topic = await run(['nodes', 'token', '--help']);
  assert.is(topic.code, 0, topic.stderr);
  assert.match(topic.stdout, /nodes token create/);
});

test('every command has a description and an example using a long flag', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { description?: string; summary?: string; examples?: (string | { command: string })[]; flags: Record<string, unknown> }>;
  };
  const ids = Object.keys(manifest.commands);
  for (const id of ['login', 'logout', 'whoami', 'passwd', 'server', 'nodes', 'nodes:show', 'nodes:token:create', 'tasks', 'tasks:run', 'tasks:show',
    'users', 'users:show', 'users:create', 'users:rm', 'users:set-role', 'roles', 'roles:show', 'roles:create', 'roles:rm',
    'tokens', 'tokens:create', 'tokens:revoke', 'clients', 'clients:create', 'clients:rm', 'audit', 'audit:verify']) assert.ok(ids.includes(id), id);
  for (const [id, cmd] of Object.entries(manifest.commands)) {
    assert.ok(cmd.summary || cmd.description, `${id} has a description`);
    // help, and a command without flags (completion), have no long flag to show.
    if (id === 'help' || Object.keys(cmd.flags).length === 0) continue;
    const examples = (cmd.examples ?? []).map((e) => (typeof e === 'string' ? e : e.command));
    assert.ok(examples.some((e) => / --[a-z]/.test(e)), `${id} has an example with a long flag`);
  }
});

const usage: [string, string[], RegExp][] = [
  ['no selector', ['tasks', 'run', '--', 'uptime'], /^Error: no target: give node names, -l labels, -g groups or --all\n$/],
  ['bad -l', ['tasks', 'run', '-l', 'env in (prod', '--', 'uptime'], /^Error: unbalanced "\(" in label selector "env in \(prod"\n$/],
  ['bad label key', ['tasks', 'run', '-l', '=prod', '--', 'uptime'], /^Error: invalid label key/],
  ['--all with names', ['tasks', 'run', '--all', 'web-1', '--', 'uptime'], /^Error: --all cannot be combined with node names\n$/],
  ['bad node glob', ['tasks', 'run', 'web/1', '--', 'uptime'], /^Error: invalid node name or glob "web\/1"\n$/],
  ['no command', ['tasks', 'run', 'web-1'], /^Error: no command: put it after -- \(e\.g\. 'opsctl tasks run web-1 -- uptime'\) or use --script FILE\n$/],
  ['script and command', ['tasks', 'run', '--all', '--script', '/etc/hostname', '--', 'uptime'], /^Error: give either --script FILE or a command after --, not both\n$/],
  ['missing script file', ['tasks', 'run', '--all', '--script', '/nonexistent/x.sh'], /^Error: reading script \/nonexistent\/x\.sh: no such file\n$/],
  ['bad --env', ['tasks', 'run', '--all', '--env', 'NOEQUALS', '--', 'true'], /^Error: --env "NOEQUALS": use NAME=value/],
  ['--secret-env not set', ['tasks', 'run', '--all', '--secret-env', 'OPSCTL_TEST_UNSET', '--', 'true'], /^Error: --secret-env OPSCTL_TEST_UNSET: \$OPSCTL_TEST_UNSET is not set in opsctl's environment/],
  ['bad --secret-env name', ['tasks', 'run', '--all', '--secret-env', '1X=secret', '--', 'true'], /^Error: --secret-env "1X": use NAME=value or NAME, with NAME made of letters/],
  ['--env and --secret-env alike', ['tasks', 'run', '--all', '--env', 'K=1', '--secret-env', 'K=2', '--', 'true'], /^Error: K: given with both --env and --secret-env; use one\n$/],
  ['bad --permission', ['roles', 'create', 'r', '--permission', 'nodes:fly'], /^Error: unknown permission "nodes:fly": use nodes:read, /],
  ['users rm without --yes', ['users', 'rm', 'alice'], /^Error: users rm needs --yes when there is no terminal to confirm on\n$/],
  ['bad tokens --ttl', ['tokens', 'create', '--name', 'x', '--role', 'viewer', '--ttl', '5s'], /^Error: --ttl 5s is out of range: use 1m to 3660d\n$/],
  ['bad audit --since', ['audit', 'ls', '--since', 'last week'], /^Error: --since: "last week" is neither a duration \(90s, 15m, 1h, 7d\) nor an RFC 3339 time\n$/],
  ['bad --timeout', ['tasks', 'run', '--all', '--timeout', 'soon', '--', 'true'], /^Error: --timeout: invalid duration "soon"/],
  ['bad --interpreter', ['tasks', 'run', '--all', '--interpreter', 'perl', '--', 'true'], /^Error: Expected --interpreter=perl to be one of: sh, bash, python, python3, pwsh \(see 'opsctl tasks run --help'\)\n$/],
  ['unknown flag', ['nodes', 'ls', '--colour'], /^Error: Nonexistent flag: --colour \(see 'opsctl nodes --help'\)\n$/],
  ['bad -o', ['nodes', 'ls', '-o', 'xml'], /^Error: Expected --output=xml to be one of: table, json, yaml/],
  ['--json with -o', ['nodes', 'ls', '--json', '-o', 'yaml'], /^Error: --output=yaml cannot also be provided when using --json \(see 'opsctl nodes --help'\)\n$/],
  ['missing argument', ['nodes', 'show'], /^Error: Missing 1 required arg: name Node name \(see 'opsctl nodes show --help'\)\n$/],
  ['bad --ttl', ['nodes', 'token', 'create', '--ttl', '30s'], /^Error: --ttl 30s is too short: a token must live at least 1m\n$/],
  ['bad --uses', ['nodes', 'token', 'create', '--uses', '0'], /^Error: --uses: Expected an integer greater than or equal to 1 but received: 0 \(see 'opsctl nodes token create --help'\)\n$/],
  ['unknown command', ['frobnicate'], /^Error: command frobnicate not found \(see 'opsctl --help'\)\n$/],
  ['bad --server', ['nodes', 'ls', '--server', 'ftp://x'], /^Error: invalid manager address "ftp:\/\/x" \(from --server\): only http:\/\/ and https:\/\/ are supported\n$/],
];

for (const [name, args, stderr] of usage) {
  test(`usage error, exit 2, nothing sent: ${name}`, async () => {
    const before = m.requestCount();
    const r = await run(args);
    assert.is(r.code, 2, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, stderr);
    assert.is(r.stderr.split('\n').length, 2, 'one line');
    assert.is(r.stdout, '');
    assert.is(m.requestCount(), before, 'no request reached the manager');
  });
}

test('the manager counts the requests opsctl sends (so "nothing sent" above means something)', async () => {
  const before = m.requestCount();
  const r = await run(['nodes', 'ls']);
  assert.is(r.code, 0, r.stderr);
  assert.is(m.requestCount(), before + 1);
});

test.run();
