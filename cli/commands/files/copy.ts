import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { TaskCommand } from '../../lib/base-command.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { fileTaskFlags, remotePath, runFileTask } from '../../lib/files/flags.js';

export default class FilesCopy extends TaskCommand {
  static override summary = 'Copy a file to another path on each node.';
  static override description = 'Both paths are on the nodes and must be inside agentd\'s files.roots. The copy keeps the mode of SRC and ' +
    'is written through a temp file and renamed into place. DST must be the new file\'s path, not a folder.';
  static override strict = false;
  static override usage = 'files copy SRC DST [NODE...] [--all] [-l SELECTOR] [-g GROUP]';
  static override examples = [
    '<%= config.bin %> files copy /etc/app/app.conf /etc/app/app.conf.bak --all',
  ];
  static override flags = { ...fileTaskFlags };

  async run(): Promise<TaskDetail> {
    const { flags, argv } = await this.parse(FilesCopy);
    const [src, dst, ...names] = argv as string[];
    const example = 'opsctl files copy /etc/app/app.conf /etc/app/app.conf.bak --all';
    const file = { op: 'copy' as const, path: remotePath(src, 'SRC', example), dest: remotePath(dst, 'DST', example) };
    const { task, allSucceeded } = await runFileTask(await this.taskRunner(flags), { names, flags, file }, (t) => this.note(t));
    if (!allSucceeded) this.exit(ExitCode.FAILURE);
    return task;
  }
}
