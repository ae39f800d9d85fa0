// Where a task runs: through the manager (POST /tasks, then its event stream), or — in direct
// mode — straight on each host's agentd. Both give the same TaskDetail and the same stream of
// TaskStreamEvents, so printing, summaries, --json and exit codes do not care which it was.
import type { CreateTaskRequest, TaskDetail, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { ApiClient } from '../api-client.js';
import { followTask, type FollowEnd } from './follow.js';

export interface StartedTask {
  task: TaskDetail;
  /** Calls onEvent with the task's events (history first) until `done`, the deadline or Ctrl-C. */
  follow(onEvent: (ev: TaskStreamEvent) => void, deadlineMs: number): Promise<FollowEnd>;
  /** Where to look at the task afterwards, for messages (`opsctl tasks show ID`); '' in direct mode. */
  showHint: string;
}

/**
 * A file task's content where no manager stores it (direct mode): the local file an upload sends,
 * and the folder a download's copies go to, one `<host>/<name>` each. The manager runner takes
 * none: content goes through the manager's file store (PUT /files, GET .../file).
 */
export interface TaskFiles {
  uploadPath?: string;
  downloadDir?: string;
}

export interface TaskRunner {
  start(body: CreateTaskRequest, files?: TaskFiles): Promise<StartedTask>;
}

/**
 * Through the manager. File content is not the runner's business here: an upload is stored on
 * the manager before the task starts, and downloads are fetched from it afterwards (files commands).
 */
export class ManagerRunner implements TaskRunner {
  constructor(readonly api: ApiClient) {}

  async start(body: CreateTaskRequest): Promise<StartedTask> {
    const task = await this.api.post<TaskDetail>('/tasks', body);
    return {
      task,
      showHint: `opsctl tasks show ${task.id}`,
      follow: (onEvent, deadlineMs) => followTask(this.api, task.id, { deadlineMs, onEvent }),
    };
  }
}
