import { Flags } from '@oclif/core';
import { INTERPRETER_NAMES } from '../../../proto/interpreters.js';
import type { CreateTaskRequest, Interpreter, TaskDetail } from '../../../proto/rest/tasks.js';
import { TaskCommand } from '../../lib/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { durationSeconds } from '../../lib/flags.js';
import { taskEnv } from '../../lib/tasks/env.js';
import { pluginTask, wantsPlugin } from '../../lib/tasks/plugin-task.js';
import { hasRolloutFlags, rolloutFlags, rolloutFromFlags } from '../../lib/tasks/rollout-flags.js';
import { readScriptFile, shebangInterpreter } from '../../lib/tasks/script-file.js';
import { followFlags, startAndFollow } from '../../lib/tasks/start-and-follow.js';
import { templateTask } from '../../lib/tasks/template-task.js';
import { buildSelector, selectorFlags } from '../../lib/tasks/selector.js';

export default class TasksRun extends TaskCommand {
  static override summary = 'Run a shell command or script on nodes and stream its output.';
  static override description = 'Run a command (everything after --, joined with spaces and run by the interpreter, like ssh does) or a script file on the ' +
    'selected nodes. Select nodes by name, glob or node set (web[01-40,42],db1: ranges keep their zero padding), with -l label selectors ' +
    '(env=prod,role!=db,zone in (a,b)), -g groups, or --all; kinds combine with AND.\n\n' +
    'On a terminal, the output of a task on several nodes is folded: a progress count while it runs, then each distinct output once, under a header ' +
    'naming its nodes as a node set ("---- web[01-40,42] (41) · succeeded, exit 0 ----"), the largest block last. With --no-fold (the default when ' +
    'standard output is not a terminal; --fold folds there too), and always for one node, output lines are printed as they arrive, prefixed by the ' +
    'node name (standard error of a node goes to standard error). ' +
    'The task ID is printed on standard error as soon as the manager accepts the task; a summary follows at the end. ' +
    'The exit code is 0 only when every targeted node succeeded; a node that did not answer, was offline, was skipped or was lost counts as failed ' +
    '(a node queued with --queue does not, yet).\n\n' +
    'Ctrl-C cancels the task on every node and waits for the runs to end (a second Ctrl-C leaves without waiting); --detach returns as soon as the task is accepted.\n\n' +
    'Rolling runs: --canary N runs on N nodes first; --batch N or N% then runs in waves, each starting when the previous one has finished (after --batch-pause); ' +
    'once more nodes failed than --max-fail allows (default 0), the nodes not started yet are skipped. With --queue, nodes offline at the start run the task ' +
    'when they reconnect (until --expires); opsctl returns when the online nodes are done and names the queued ones.\n\n' +
    'With --plugin NAME, run an executor plugin of the nodes\' agents instead (see `opsctl plugins ls`), giving its parameters with -p KEY=VALUE; ' +
    'the node checks them against the plugin\'s manifest before anything runs.\n\n' +
    'With --template NAME, run a stored template (see `opsctl templates`); -p KEY=VALUE gives its parameters, which the manager checks against ' +
    'their types and passes to the script as environment variables OPS_PARAM_<KEY>, never inside its text.\n\n' +
    'With --json, the task events are printed as NDJSON, one event object per line: {"type":"run"|"started"|"output"|"exit"|"done", ...}.';
  static override strict = false;
  static override usage = 'tasks run [NODE...] [--all] [-l SELECTOR] [-g GROUP] [FLAGS] (-- COMMAND... | --script FILE | --plugin NAME [-p KEY=VALUE...] | --template NAME [-p KEY=VALUE...])';
  static override examples = [
    '<%= config.bin %> tasks run --all -- uptime',
    '<%= config.bin %> tasks run web-1 web-2 -- systemctl is-active nginx',
    "<%= config.bin %> tasks run 'web[01-40,42]' --no-fold -- uptime",
    "<%= config.bin %> tasks run --label 'env=prod,role in (web,api)' --timeout 2m -- df -h /",
    '<%= config.bin %> tasks run --group db --script ./backup.sh --interpreter bash --env TARGET=s3 --json',
    'DB_PASSWORD="$(pass show db)" <%= config.bin %> tasks run --group db --secret-env DB_PASSWORD -- ./migrate.sh',
    '<%= config.bin %> tasks run --all --plugin http-probe -p url=http://127.0.0.1:8080/ -p expect=200',
    '<%= config.bin %> tasks run --group web --template deploy -p env=prod -p count=5',
    '<%= config.bin %> tasks run --label env=prod --canary 1 --batch 10% --max-fail 2% --batch-pause 30s -- systemctl restart app',
    '<%= config.bin %> tasks run --group edge --queue --expires 24h --detach -- apt-get -y upgrade',
  ];
  static override flags = {
    ...selectorFlags,
    script: Flags.string({ description: 'Run this script file instead of a command after --.', helpValue: 'FILE' }),
    interpreter: Flags.option({
      options: INTERPRETER_NAMES,
      description: 'Interpreter of the command or script (default: the script\'s #! line, else sh). A node without it fails that run with "<name> not installed".',
    })(),
    timeout: Flags.string({ description: 'Stop the task on nodes still running after this long: 90s, 5m, 1h (default: the manager\'s, 5m).', helpValue: 'DURATION' }),
    env: Flags.string({ description: 'Environment variable for the command, K=V (repeatable).', multiple: true, multipleNonGreedy: true, helpValue: 'K=V' }),
    'secret-env': Flags.string({
      description: 'Secret environment variable, K=V or K to take the value of $K from opsctl\'s own environment (repeatable). ' +
        'Stored encrypted and shown as *** in every view, log and audit row. Prefer K: a value on the command line is visible in the process list.',
      multiple: true, multipleNonGreedy: true, helpValue: 'K[=V]',
    }),
    plugin: Flags.string({ description: 'Run this executor plugin instead of a command or script (see `opsctl plugins ls`).', helpValue: 'NAME' }),
    param: Flags.string({ char: 'p', description: 'Parameter of the --plugin or --template, KEY=VALUE (repeatable).', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE' }),
    template: Flags.string({ description: 'Run this stored template (see `opsctl templates ls`); its parameters are given with -p and reach the script as $OPS_PARAM_<NAME>.', helpValue: 'NAME' }),
    'template-version': Flags.integer({ description: 'With --template: run this version (default: the latest).', min: 1, helpValue: 'N' }),
    json: Flags.boolean({ description: 'Print the task events as NDJSON instead of prefixed lines (with --detach: the task as JSON).' }),
    ...followFlags,
    ...rolloutFlags,
  };

  async run(): Promise<TaskDetail> {
    // Everything after `--` is the command; oclif would mix it with the node names.
    const dash = this.argv.indexOf('--');
    const before = dash < 0 ? this.argv : this.argv.slice(0, dash);
    const commandWords = dash < 0 ? [] : this.argv.slice(dash + 1);
    const { flags, argv } = await this.parse(TasksRun, before);
    const names = argv as string[];

    const selector = buildSelector(names, flags);
    const body: CreateTaskRequest = flags.template !== undefined || flags['template-version'] !== undefined
      ? { selector, ...templateTask(flags, commandWords) }
      : wantsPlugin(flags)
        ? { selector, ...pluginTask(flags, commandWords) }
        : await this.scriptRequest(selector, flags, commandWords, names);
    if (flags.timeout !== undefined) body.timeoutSeconds = durationSeconds('--timeout', flags.timeout, 1, 7 * 86400);
    Object.assign(body, rolloutFromFlags(flags));
    if (flags.inventory && hasRolloutFlags(flags)) {
      throw new UsageError('--batch, --canary, --max-fail, --batch-pause, --queue and --expires need the manager: direct mode (--inventory) runs on every host at once');
    }
    if (flags.inventory && flags.detach) throw new UsageError('--detach needs the manager: in direct mode (--inventory) the task runs only while opsctl does');

    const runner = await this.taskRunner(flags);
    const { task, allSucceeded } = await startAndFollow({ write: (t) => this.write(t), note: (t) => this.note(t) }, () => runner.start(body), flags);
    if (!allSucceeded) this.exit(ExitCode.FAILURE);
    return task;
  }

  /** A command or script task: the script, its interpreter and environment. */
  private async scriptRequest(selector: CreateTaskRequest['selector'], flags: { script?: string; interpreter?: string; env?: string[]; 'secret-env'?: string[] }, words: string[], names: string[]): Promise<CreateTaskRequest> {
    const script = await this.script(flags.script, words, names);
    const body: CreateTaskRequest = { selector, script };
    const interpreter = flags.interpreter ?? (flags.script !== undefined ? shebangInterpreter(script) : undefined);
    if (interpreter) body.interpreter = interpreter as Interpreter;
    Object.assign(body, taskEnv(flags.env, flags['secret-env']));
    return body;
  }

  private async script(file: string | undefined, words: string[], names: string[]): Promise<string> {
    if (file !== undefined && words.length > 0) throw new UsageError('give either --script FILE or a command after --, not both');
    if (file !== undefined) return readScriptFile(file);
    const command = words.join(' ').trim();
    if (command === '') {
      const example = names.length > 0 ? `opsctl tasks run ${names.join(' ')} -- uptime` : 'opsctl tasks run --all -- uptime';
      throw new UsageError(`no command: put it after -- (e.g. '${example}') or use --script FILE`);
    }
    return command;
  }
}
