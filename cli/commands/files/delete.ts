import { Flags } from '@oclif/core';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { TaskCommand } from '../../lib/base-command.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { fileTaskFlags, remotePath, runFileTask } from '../../lib/files/flags.js';

export default class FilesDelete extends TaskCommand {
  static override summary = 'Delete a file (or, with --recursive, a folder) on nodes.';
  static override description = 'PATH must be inside agentd\'s files.roots and is never a root itself. A symlink is deleted, not what it ' +
    'points at. A folder needs --recursive.';
  static override strict = false;
  static override usage = 'files delete PATH [NODE...] [--recursive] [--all] [-l SELECTOR] [-g GROUP]';
  static override examples = [
    '<%= config.bin %> files delete /srv/releases/old.tar.gz --all',
    '<%= config.bin %> files delete /srv/releases/2024-01 --recursive -g web',
  ];
  static override flags = {
    ...fileTaskFlags,
    recursive: Flags.boolean({ char: 'r', description: 'Delete a folder and everything in it.' }),
  };

  async run(): Promise<TaskDetail> {
    const { flags, argv } = await this.parse(FilesDelete);
    const [path, ...names] = argv as string[];
    const file = { op: 'delete' as const, path: remotePath(path, 'PATH', 'opsctl files delete /srv/releases/old.tar.gz --all'), ...(flags.recursive ? { recursive: true } : {}) };
    const { task, allSucceeded } = await runFileTask(await this.taskRunner(flags), { names, flags, file }, (t) => this.note(t));
    if (!allSucceeded) this.exit(ExitCode.FAILURE);
    return task;
  }
}
