// Tasks among replicas. Each task is run by the replica that accepted it — its owner, stored with
// the task — whose engine alone writes its progress. When the owner dies, another replica adopts
// its running tasks: it claims each in the database (an UPDATE that names the old owner, so exactly
// one replica wins) and resumes it as after a restart, from what is stored. Hosts re-send what was
// not acknowledged, and runs never sent are sent.
//
// Two ways in: a sweep every few seconds, and a host's event for a run no engine here knows (its
// host moved to this replica before the sweep ran): then the event goes to the task's owner if it
// lives, or the task is adopted first, so the event is applied, never acknowledged and dropped.
import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import type { TaskEvent__Output } from '../../../proto/hostlink.js';
import type { Orm } from '../../db/orm.js';
import { queryRows } from '../../db/raw-rows.js';
import { tableOf } from '../../db/batch-sql.js';
import { TaskRun } from './task-run.entity.js';
import { Task } from './task.entity.js';

export interface TaskReplicas {
  /** This replica's id, stored as the owner of the tasks it accepts. */
  id: string;
  /** The replicas alive now (this one included). */
  alive(): Promise<Set<string>>;
  /** Sends a host's event to the replica that owns its task. */
  forward(owner: string, nodeId: string, event: TaskEvent__Output): void;
  /** Handles what was left in a dead replica's inbox (its hosts' events sent there before it was known dead). */
  drainInbox(deadReplica: string): Promise<unknown>;
}

const SWEEP_EVERY_MS = 3000;
/**
 * How long an owner's membership record must stay missing before its tasks are taken: a Redis
 * restart loses every record for a moment (each replica writes its own again within 2 s), and
 * that must not look like every replica dying at once.
 */
const OWNER_GONE_GRACE_MS = 5000;

export class TaskAdoption {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;
  /** taskId → its adoption in progress, so a burst of events for one task adopts it once. */
  private readonly adopting = new Map<string, Promise<void>>();
  /** Owners seen without a membership record, and since when. */
  private readonly missingSince = new Map<string, number>();

  constructor(
    private readonly orm: Orm,
    readonly replicas: TaskReplicas,
    /** Resumes the running tasks `ids` (all when undefined) that `claim` lets this replica take. */
    private readonly resume: (claim: (task: Task) => Promise<boolean>, ids?: string[]) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  /** Whether this replica may run `task` now; takes it over in the database when its owner is gone. */
  readonly claim = async (task: Task): Promise<boolean> => {
    const me = this.replicas.id;
    if (task.owner === me) return true;
    if (task.owner && !(await this.ownerGone(task.owner))) return false;
    const taken = await this.orm.em.fork().nativeUpdate(Task, { id: task.id, owner: task.owner }, { owner: me });
    if (taken === 1) {
      this.log.warn({ taskId: task.id, previousOwner: task.owner }, 'adopting a running task whose replica is gone');
      if (task.owner) this.leftBy.add(task.owner);
    }
    return taken === 1;
  };

  /** Owners of tasks just adopted, whose inboxes are read once the tasks run here. */
  private readonly leftBy = new Set<string>();

  private async resumeAndCatchUp(ids?: string[]): Promise<void> {
    await this.resume(this.claim, ids);
    for (const owner of [...this.leftBy]) {
      this.leftBy.delete(owner);
      await this.replicas.drainInbox(owner);
    }
  }

  /** The owner has had no membership record for OWNER_GONE_GRACE_MS. */
  private async ownerGone(owner: string): Promise<boolean> {
    if ((await this.replicas.alive()).has(owner)) {
      this.missingSince.delete(owner);
      return false;
    }
    const since = this.missingSince.get(owner) ?? Date.now();
    this.missingSince.set(owner, since);
    return Date.now() - since >= OWNER_GONE_GRACE_MS;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.resumeAndCatchUp().catch((err: unknown) => this.log.warn({ err }, 'looking for tasks to adopt failed'))
        .finally(() => { this.sweeping = undefined; });
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * A host's event for a run no engine here holds: 'forwarded' to its task's live owner, 'adopted'
   * (the task now runs here: apply the event), or 'none' (finished or unknown: acknowledge and drop).
   */
  async unknownRun(nodeId: string, event: TaskEvent__Output): Promise<'forwarded' | 'adopted' | 'none'> {
    const em = this.orm.em.fork();
    const taskId = await taskOfRun(em, event.runId);
    if (!taskId) return 'none';
    const task = await em.findOne(Task, { id: taskId }, { fields: ['id', 'status', 'owner'], disableIdentityMap: true });
    if (!task || task.status !== 'running') return 'none';
    // An owner that may still live gets the event; if it is in fact dead, whoever adopts the task
    // reads it from the dead owner's inbox.
    if (task.owner && task.owner !== this.replicas.id && !(await this.ownerGone(task.owner))) {
      this.replicas.forward(task.owner, nodeId, event);
      return 'forwarded';
    }
    let adoption = this.adopting.get(taskId);
    if (!adoption) {
      adoption = this.resumeAndCatchUp([taskId]).finally(() => this.adopting.delete(taskId));
      this.adopting.set(taskId, adoption);
    }
    await adoption;
    return 'adopted';
  }
}

async function taskOfRun(em: EntityManager, runId: string): Promise<string | undefined> {
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const [row] = await queryRows<{ task_id: string }>(em, `select ${q('task_id')} from ${tableOf(em, TaskRun.name)} where ${q('id')} = ?`, [runId]);
  return row?.task_id;
}
