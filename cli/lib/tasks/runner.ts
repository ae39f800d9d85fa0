// Where a task runs: through the manager (POST /tasks, then its event stream), or — in direct
// mode — straight on each host's agentd. Both give the same TaskDetail and the same stream of
// TaskStreamEvents, so printing, summaries, --json and exit codes do not care which it was.
import type { CreateTaskRequest, RerunTaskRequest, TaskDetail, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { ApiClient } from '../api-client.js';
import { followTask, type FollowEnd, type FollowOptions } from './follow.js';

/** What a follower may add to the plain follow (direct mode ignores them: it has no queue and cancels on Ctrl-C itself). */
export type FollowHooks = Pick<FollowOptions, 'settled' | 'onInterrupt' | 'note'>;

export interface StartedTask {
  task: TaskDetail;
  /** Calls onEvent with the task's events (history first) until `done`, the deadline or Ctrl-C. */
  follow(onEvent: (ev: TaskStreamEvent) => void, deadlineMs: number, hooks?: FollowHooks): Promise<FollowEnd>;
  /** Where to look at the task afterwards, for messages (`opsctl tasks show ID`); '' in direct mode. */
  showHint: string;
  /** Cancels the task's unfinished runs on the manager (direct mode cancels on Ctrl-C by itself). */
  cancel?(): Promise<TaskDetail>;
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
    return this.started(await this.api.post<TaskDetail>('/tasks', body));
  }

  /** The same task again, as a new task: on every node, or (`failed`) on those whose run did not succeed. */
  async rerun(taskId: string, request: RerunTaskRequest): Promise<StartedTask> {
    return this.started(await this.api.post<TaskDetail>(`/tasks/${encodeURIComponent(taskId)}/rerun`, request));
  }

  private started(task: TaskDetail): StartedTask {
    const path = `/tasks/${encodeURIComponent(task.id)}`;
    return {
      task,
      showHint: `opsctl tasks show ${task.id}`,
      follow: (onEvent, deadlineMs, hooks) => followTask(this.api, task.id, { deadlineMs, onEvent, ...hooks }),
      cancel: () => this.api.post<TaskDetail>(`${path}/cancel`, {}),
    };
  }
}
