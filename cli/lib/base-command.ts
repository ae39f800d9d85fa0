// The base of every opsctl command. It owns the conventions once: data to stdout and messages to
// stderr; `--json` / `-o table|json|yaml` for list and show commands; every failure printed as one
// line `Error: ...` with the exit code from exit-codes.ts.
import { Command, Flags, type Interfaces } from '@oclif/core';
import { ApiClient } from './api-client.js';
import { resolveConnection } from './config-file.js';
import { CliError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { OUTPUT_FORMATS, renderData, TableStream, type Column, type OutputFormat, type RenderContext } from './output.js';
import { ManagerRunner, type TaskRunner } from './tasks/runner.js';

/** oclif's ExitError (thrown by this.exit()) is how a command ends with a code; it prints nothing. */
export function isExitError(err: unknown): err is Error & { oclif: { exit: number } } {
  const e = err as { code?: unknown; oclif?: { exit?: unknown } } | null;
  return typeof e === 'object' && e !== null && e.code === 'EEXIT' && typeof e.oclif?.exit === 'number';
}

/** Maps anything thrown to the single line and exit code the user sees. */
export function describeError(err: unknown, commandId?: string): { message: string; exitCode: number } {
  const e = err as Error & { exitCode?: number; parse?: unknown; oclif?: { exit?: number } };
  if (e instanceof CliError) return { message: e.message, exitCode: e.exitCode };
  const text = String(e?.message ?? err);
  const first = text.split('\n')[0].trim();
  // oclif's parse errors (unknown flag, bad option, missing argument) carry `parse`; their message
  // spans lines ("Missing 1 required arg:\nname  Node name\nSee more help with --help").
  // A flag's own parse function failing (e.g. --uses 0) has no `parse` but the same "See more help".
  if (e && typeof e === 'object' && ('parse' in e || text.includes('\nSee more help with --help'))) {
    const help = commandId ? `opsctl ${commandId.replaceAll(':', ' ')} --help` : 'opsctl --help';
    const oneLine = text.split('\n').filter((l) => !l.startsWith('See more help')).map((l) => l.trim()).filter(Boolean).join(' ')
      .replace(/\s+/g, ' ').replace(/^The following error occurred: /, '').replace(/^Parsing (--\S+) /, '$1: ');
    return { message: `${oneLine} (see '${help}')`, exitCode: ExitCode.USAGE };
  }
  if (/^command .* not found$/.test(first)) return { message: `${first} (see 'opsctl --help')`, exitCode: ExitCode.USAGE };
  return { message: first || 'unknown error', exitCode: ExitCode.FAILURE };
}

export abstract class BaseCommand extends Command {
  /** Data for scripts and pipes. */
  protected write(text: string): void {
    process.stdout.write(text);
  }

  /** Messages for people: progress, summaries, hints. */
  protected note(text: string): void {
    process.stderr.write(text.endsWith('\n') ? text : text + '\n');
  }

  protected get stdoutIsTty(): boolean {
    return Boolean(process.stdout.isTTY);
  }

  /**
   * oclif reads an argument left off the command line from standard input when that is not a
   * terminal: `echo web | opsctl nodes ls` listed the nodes matching "web", a loop reading a pipe
   * lost its input to the first opsctl in it, and every command on an open pipe waited 10 ms for
   * it. No opsctl argument comes from standard input.
   */
  override async init(): Promise<void> {
    for (const arg of Object.values((this.constructor as typeof Command).args ?? {})) arg.ignoreStdin = true;
    await super.init();
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<never> {
    // ExitError is how this.exit() unwinds; let it through untouched.
    if (isExitError(err)) throw err;
    const { message, exitCode } = describeError(err, this.id);
    process.stderr.write(`Error: ${message}\n`);
    if (process.env.OPSCTL_DEBUG) process.stderr.write(`${err.stack}\n`);
    return this.exit(exitCode);
  }
}

/** Commands that talk to the manager: `--server` and an API client from the saved login. */
export abstract class ApiCommand extends BaseCommand {
  static override baseFlags = {
    server: Flags.string({
      description: 'Manager URL, e.g. http://127.0.0.1:8440 (overrides $OPSCTL_SERVER and the config file).',
      helpValue: 'URL',
      helpGroup: 'GLOBAL',
    }),
  };

  protected async api(serverFlag: string | undefined): Promise<ApiClient> {
    const conn = await resolveConnection(serverFlag);
    return ApiClient.open(conn.server, conn.token);
  }
}

/**
 * Commands that run something on nodes (tasks run, services, files): through the manager, or with
 * --inventory straight on each host's agentd (direct mode, no login); the same printing, --json
 * and exit codes for every kind either way.
 */
export abstract class TaskCommand extends ApiCommand {
  static override baseFlags = {
    ...ApiCommand.baseFlags,
    inventory: Flags.string({
      description: 'Direct mode: run on the hosts of this inventory file, straight on their agentd, without a manager (or $OPSCTL_INVENTORY).',
      helpValue: 'FILE',
      helpGroup: 'GLOBAL',
      env: 'OPSCTL_INVENTORY',
    }),
  };

  /** Where the task runs. */
  protected async taskRunner(flags: { server?: string; inventory?: string }): Promise<TaskRunner> {
    if (flags.inventory) {
      const [{ loadInventory }, { DirectRunner }] = await Promise.all([import('./direct/inventory.js'), import('./direct/runner.js')]);
      return new DirectRunner(await loadInventory(flags.inventory));
    }
    return new ManagerRunner(await this.api(flags.server));
  }
}

/** List and show commands: the same data as a table, JSON or YAML. */
export abstract class DataCommand extends ApiCommand {
  static override baseFlags = {
    ...ApiCommand.baseFlags,
    json: Flags.boolean({ description: 'Print JSON (the API object, stable for scripts); same as --output json.', helpGroup: 'OUTPUT', exclusive: ['output'] }),
    output: Flags.option({
      char: 'o',
      options: OUTPUT_FORMATS,
      description: 'Output format: table (aligned on a terminal, tab-separated otherwise), json or yaml.',
      helpGroup: 'OUTPUT',
    })(),
  };

  protected outputFormat(flags: { json?: boolean; output?: string }): OutputFormat {
    if (flags.json) return 'json';
    return (flags.output as OutputFormat | undefined) ?? 'table';
  }

  /** Prints `data` in the chosen format; `human` renders the table view. */
  protected async print<T>(data: T, flags: { json?: boolean; output?: string }, human: (ctx: RenderContext) => string): Promise<void> {
    const format = this.outputFormat(flags);
    if (format === 'table') this.write(human({ tty: this.stdoutIsTty }));
    else this.write(await renderData(data, format));
  }

  /**
   * Prints a list read page by page (ApiClient.pages): as a table, each page as it arrives; as
   * JSON or YAML, one array of every row once the last page is in. `beforeEmpty` runs (on a
   * terminal) when the list is empty, before the header: where a command says why.
   */
  protected async printPages<T>(pages: AsyncIterable<T[]>, flags: { json?: boolean; output?: string }, columns: Column<T>[], beforeEmpty?: () => void): Promise<T[]> {
    const format = this.outputFormat(flags);
    const ctx = { tty: this.stdoutIsTty };
    const table = new TableStream(columns, ctx);
    const all: T[] = [];
    let first = true;
    for await (const rows of pages) {
      all.push(...rows);
      if (format !== 'table') continue;
      if (first && rows.length === 0 && ctx.tty) beforeEmpty?.();
      first = false;
      this.write(table.rows(rows));
    }
    if (format !== 'table') this.write(await renderData(all, format));
    return all;
  }
}

export type DataFlags = Interfaces.InferredFlags<typeof DataCommand.baseFlags>;
