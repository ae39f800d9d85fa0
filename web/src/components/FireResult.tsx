import { Link } from 'react-router';
import type { ScheduleFireView } from '../../../proto/rest/schedules';
import { formatAgo } from '../lib/format';

/** A schedule's fire: the status of the task it started (a link to it), or why it started none. */
export function FireResult({ fire, when = true }: { fire: ScheduleFireView | null; when?: boolean }) {
  if (!fire) return <>never fired</>;
  const text = `${fire.status ?? fire.error ?? 'no task'}${when ? `, ${formatAgo(fire.firedAt)}` : ''}`;
  return fire.taskId ? <Link to={`/tasks/${encodeURIComponent(fire.taskId)}`}>{text}</Link> : <>{text}</>;
}
