// `opsctl completion bash|zsh`: the printed scripts, run in the real shells with the words a person
// typed, offer the topics, commands, flags and flag values of the built commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../../lib/shell-quote.js';
import { ConfigHome, ensureBuilt, opsctl, root } from './run-opsctl.js';

const home = new ConfigHome();
const dir = mkdtempSync(join(tmpdir(), 'opsctl-completion-'));
const hasShell = (shell: string) => spawnSync(shell, ['-c', 'true']).status === 0;

test.before(() => ensureBuilt());
test.after(() => {
  home.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function script(shell: 'bash' | 'zsh'): Promise<string> {
  const r = await opsctl(home, ['completion', shell]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  const file = join(dir, `opsctl.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

/** What bash offers for the typed words; the last one is the word under the cursor ('' after a space). */
function bashComplete(file: string, words: string[]): string[] {
  const program = `source ${shellQuote(file)}\nCOMP_WORDS=(${words.map(shellQuote).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_opsctl\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8', timeout: 10_000 });
  return out.split('\n').filter(Boolean);
}

test('bash: a topic completes from its first letters', async () => {
  const file = await script('bash');
  assert.equal(bashComplete(file, ['opsctl', 'no']), ['nodes']);
  assert.equal(bashComplete(file, ['opsctl', 't']), ['tasks', 'templates', 'tokens', 'top']);
  assert.equal(bashComplete(file, ['opsctl', 'comp']), ['completion']);
});

test('bash: after a topic, its commands; after a command, its flags and their values', async () => {
  const file = await script('bash');
  assert.equal(bashComplete(file, ['opsctl', 'nodes', '']), ['approve', 'deny', 'label', 'ls', 'metrics', 'rm', 'show', 'token']);
  assert.equal(bashComplete(file, ['opsctl', 'nodes', 'token', '']), ['create']);
  assert.equal(bashComplete(file, ['opsctl', 'nodes', 'ls', '--']), ['--group', '--json', '--label', '--output', '--server']);
  assert.equal(bashComplete(file, ['opsctl', 'nodes', 'ls', '--l']), ['--label']);
  assert.equal(bashComplete(file, ['opsctl', 'nodes', 'ls', '-o', '']), ['table', 'json', 'yaml']);
  assert.equal(bashComplete(file, ['opsctl', 'server', '--log-level', 'd']), ['debug']);
  assert.equal(bashComplete(file, ['opsctl', 'completion', '--']), [], 'a command without flags offers none');
});

test('bash: flag values and arguments do not count as command words', async () => {
  const file = await script('bash');
  // --server's value "nodes" is a value, not the topic; "web-1" is show's argument.
  assert.equal(bashComplete(file, ['opsctl', 'tasks', 'ls', '--server', 'nodes', '--js']), ['--json']);
  assert.equal(bashComplete(file, ['opsctl', 'nodes', 'show', 'web-1', '--j']), ['--json']);
  // A free-form value (a URL) and the words after -- are left to the shell's file names.
  assert.equal(bashComplete(file, ['opsctl', 'nodes', 'ls', '--server', '']), []);
  assert.equal(bashComplete(file, ['opsctl', 'tasks', 'run', '--all', '--', 'up']), []);
  assert.equal(bashComplete(file, ['opsctl', 'nodez', '']), [], 'an unknown word offers nothing');
});

test('bash: every command in the manifest is reachable word by word', async () => {
  const file = await script('bash');
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { id: string; hidden: boolean }> };
  // One bash process for all of them: the loop's output is "path<TAB>offered words".
  const ids = Object.values(manifest.commands).filter((c) => !c.hidden).map((c) => c.id.split(':'));
  const program = [`source ${shellQuote(file)}`, ...ids.flatMap((words) => words.map((w, i) =>
    `COMP_WORDS=(opsctl ${words.slice(0, i).map(shellQuote).join(' ')} ${shellQuote(w)}); COMP_CWORD=${i + 1}; _opsctl; printf '%s\\t%s\\n' ${shellQuote(words.slice(0, i + 1).join(' '))} "\${COMPREPLY[*]}"`))].join('\n');
  const lines = execFileSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8', timeout: 20_000 }).split('\n').filter(Boolean);
  for (const line of lines) {
    const [path, offered] = line.split('\t');
    const word = path.split(' ').at(-1)!;
    assert.ok(offered.split(' ').includes(word), `opsctl ${path}: offered "${offered}"`);
  }
  assert.ok(lines.length >= ids.length, `${lines.length} lines for ${ids.length} commands`);
});

test('completion refuses an unknown shell or none, as a usage error', async () => {
  const fish = await opsctl(home, ['completion', 'fish']);
  assert.is(fish.code, 2);
  assert.is(fish.stdout, '');
  assert.match(fish.stderr, /^Error: Expected fish to be one of: bash, zsh .*\(see 'opsctl completion --help'\)\n$/);
  const none = await opsctl(home, ['completion']);
  assert.is(none.code, 2);
  assert.match(none.stderr, /^Error: Missing 1 required arg: shell/);
});

test('zsh: the script parses and offers commands, flags and values with descriptions', async () => {
  if (!hasShell('zsh')) {
    console.log('  (zsh is not installed: zsh completion not run)');
    return;
  }
  const file = await script('zsh');
  execFileSync('zsh', ['-n', file], { timeout: 10_000 });
  // zsh's completion system runs only inside the line editor; its three builtins are replaced by
  // ones that print what they were given, and the script's function is called with `words` set.
  const probe = (words: string[]) => execFileSync('zsh', ['-f', '-c', [
    'compdef() { :; }',
    '_describe() { print -rl -- "${(@P)4}"; }',
    'compadd() { print -rl -- "${(@P)2}"; }',
    '_files() { print -r -- "(files)"; }',
    `source ${shellQuote(file)}`,
    `words=(${words.map(shellQuote).join(' ')}); CURRENT=${words.length}; _opsctl || true`,
  ].join('\n')], { encoding: 'utf8', timeout: 10_000 }).split('\n').filter(Boolean);
  assert.ok(probe(['opsctl', 'no']).includes('nodes:List, inspect and enroll nodes'));
  const nodes = probe(['opsctl', 'nodes', '']);
  assert.equal(nodes.map((e) => e.split(':')[0]), ['approve', 'deny', 'label', 'ls', 'metrics', 'rm', 'show', 'token']);
  assert.ok(nodes.includes('token:Enrollment tokens for new hosts'), nodes.join('\n'));
  assert.ok(probe(['opsctl', 'nodes', 'ls', '--']).some((e) => e.startsWith('--output:Output format')));
  assert.equal(probe(['opsctl', 'nodes', 'ls', '--output', '']), ['table', 'json', 'yaml']);
  assert.equal(probe(['opsctl', 'tasks', 'run', '--all', '--', 'up']), ['(files)']);
  assert.equal(probe(['opsctl', 'nodez', '']), [], 'an unknown word offers nothing');
});

test.run();
