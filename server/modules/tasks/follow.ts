// Following a task: its stored events after the follower's resume point, page by page, then the
// live ones. The live subscription is taken before the log is read, and live events already in
// the log are dropped by seq, so nothing is missed or repeated at the seam.
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { Orm } from '../../db/orm.js';
import { runReplay } from './active-task.js';
import type { TaskEngine } from './engine.js';
import { readBlocks } from './event-log.js';
import { splitBySpans } from './output-tail.js';
import { TaskRun } from './task-run.entity.js';
import { Task } from './task.entity.js';
import { runEntityView, toTaskSummary } from './views.js';

/** Replayed events between waits for a slow client (the stream's buffer stays far below its limit). */
const PAUSE_EVERY = 500;

export async function followTask(
  orm: Orm, engine: TaskEngine, id: string, after: number,
  onEvent: (event: TaskStreamEvent, text?: string) => void, pause: () => Promise<void>,
): Promise<() => void> {
  const live = engine.active.get(id) ?? await activeSoon(orm, engine, id);
  const held: [TaskStreamEvent[], string[]][] = [];
  let cursor = after;
  let replaying = true;
  let stopped = false;
  const onLive = (events: TaskStreamEvent[], texts: string[]) => {
    if (replaying) {
      held.push([events, texts]);
      return;
    }
    for (let i = 0; i < events.length; i++) {
      const seq = events[i].seq ?? 0;
      if (seq <= cursor) continue;
      cursor = seq;
      onEvent(events[i], texts[i]);
    }
  };
  live?.bus.on('events', onLive);
  const stop = () => { stopped = true; live?.bus.off('events', onLive); };

  const em = orm.em.fork();
  let replayed = 0;
  for (;;) {
    const { events, more } = await readBlocks(em, id, cursor);
    for (const e of events) {
      onEvent(e);
      cursor = e.seq!;
      if (++replayed % PAUSE_EVERY === 0) await pause();
      if (stopped) break;
    }
    if (!more || stopped) break;
  }
  if (!live && replayed === 0 && after === 0) await replayFromRows(orm, id, onEvent);
  replaying = false;
  for (const [events, texts] of held.splice(0)) onLive(events, texts);
  // Running, but not here: another replica runs it. Its events reach the database as they are
  // stored there, so this follower reads them from the log until the task's `done`.
  if (!live && (await isRunning(orm, id))) void tailLog(orm, id, () => cursor, (e) => { cursor = e.seq ?? cursor; onEvent(e); }, () => stopped);
  return stop;
}

const TAIL_EVERY_MS = 250;

async function isRunning(orm: Orm, id: string): Promise<boolean> {
  return (await orm.em.fork().findOne(Task, { id }, { fields: ['status'] }))?.status === 'running';
}

async function tailLog(orm: Orm, id: string, cursor: () => number, onEvent: (e: TaskStreamEvent) => void, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    await new Promise((resolve) => setTimeout(resolve, TAIL_EVERY_MS));
    if (stopped()) return;
    try {
      const { events } = await readBlocks(orm.em.fork(), id, cursor());
      for (const e of events) {
        onEvent(e);
        if (e.type === 'done') return;
      }
    } catch {
      // The database away for a moment: the next round reads on from the same place.
    }
  }
}

/**
 * A task stored as running but not in memory yet is being created (it is held in memory right
 * after its rows are committed): wait the moment that takes rather than follow a dead task.
 */
async function activeSoon(orm: Orm, engine: TaskEngine, id: string) {
  const task = await orm.em.fork().findOne(Task, { id }, { fields: ['status'] });
  for (let waited = 0; task?.status === 'running' && waited < 2000; waited += 20) {
    const live = engine.active.get(id);
    if (live) return live;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return engine.active.get(id);
}

/** Tasks from before the event log: their runs as stored, then `done`. */
async function replayFromRows(orm: Orm, id: string, onEvent: (event: TaskStreamEvent) => void): Promise<void> {
  const em = orm.em.fork();
  const task = await em.findOne(Task, { id });
  if (!task) return;
  const runs = await em.find(TaskRun, { task: id }, { orderBy: { nodeName: 'asc' } });
  for (const run of runs) for (const e of runReplay(runEntityView(run), splitBySpans(run.output, run.outputStreams ?? []))) onEvent(e);
  if (task.status !== 'running') onEvent({ type: 'done', taskId: id, status: task.status, counts: toTaskSummary(task, runs.map((r) => r.status)).counts });
}
