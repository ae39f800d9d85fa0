// The `opsctl top` screen: a header with the fleet's counts, the node table (or one node's detail),
// a status line (connection, filter) and the key hints, within the terminal's size.
import { Box, Text, useApp, useInput } from 'ink';
import { useState } from 'react';
import type { DetailSource } from './detail-source.js';
import { ErrorBoundary } from './ErrorBoundary.js';
import type { FeedSource } from './live.js';
import { SORT_BY_KEY, SORT_KEYS, statusCounts, visibleRows, type Sort, type TopState } from './model.js';
import { NodeDetail } from './NodeDetail.js';
import { NodeTable } from './NodeTable.js';
import { useFeed } from './use-feed.js';
import { useTerminalSize, type TerminalSize } from './use-terminal-size.js';

export interface AppProps {
  feed: FeedSource;
  detail: DetailSource;
  /** The manager's URL, for the header. */
  manager: string;
  /** A fixed size instead of the terminal's (tests). */
  size?: TerminalSize;
  /** How often samples reach the screen (0: at once, for tests). */
  flushMs?: number;
  /** Detail refresh period (tests). */
  detailRefreshMs?: number;
  unicode?: boolean;
}

export const KEY_HINTS = 'q quit  / filter  ↑↓ select  ⏎ detail  sort: c m l d n s (again: reverse), ←→';
const DETAIL_HINTS = 'q quit  Esc back';

/** The first sort: busiest CPU first, like top. */
export const DEFAULT_SORT: Sort = { key: 'cpu', reverse: false };

function clip(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text;
}

function connectionText(state: TopState): { text: string; colour?: string } {
  const c = state.connection;
  if (c.state === 'connecting') return { text: 'connecting…', colour: 'yellow' };
  if (c.state === 'live') return { text: 'live' };
  return { text: `reconnecting: ${c.reason} (attempt ${c.attempt})`, colour: 'red' };
}

function Screen(props: AppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  const state = useFeed(props.feed, props.flushMs);
  const [sort, setSort] = useState<Sort>(DEFAULT_SORT);
  const [filter, setFilter] = useState('');
  const [editing, setEditing] = useState(false);
  const [selected, setSelected] = useState<string>();
  const [detail, setDetail] = useState<string>();
  const unicode = props.unicode ?? true;

  const rows = visibleRows(state, sort, filter);
  const current = rows.some((r) => r.name === selected) ? selected : rows[0]?.name;
  const index = rows.findIndex((r) => r.name === current);
  const bodyHeight = Math.max(1, size.rows - 3);

  const sortBy = (key: Sort['key']) => setSort((s) => (s.key === key ? { key, reverse: !s.reverse } : { key, reverse: false }));
  const move = (by: number) => {
    if (rows.length === 0) return;
    setSelected(rows[Math.max(0, Math.min(rows.length - 1, index + by))].name);
  };

  useInput((input, key) => {
    if (detail !== undefined) {
      if (input === 'q') exit();
      else if (key.escape || key.backspace || key.delete) setDetail(undefined);
      return;
    }
    if (editing) {
      if (key.escape) { setFilter(''); setEditing(false); }
      else if (key.return) setEditing(false);
      else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (key.upArrow) move(-1);
      else if (key.downArrow) move(1);
      else if (input && !key.ctrl && !key.meta && !/[\x00-\x1f]/.test(input)) setFilter((f) => f + input);
      return;
    }
    if (input === 'q') exit();
    else if (input === '/') setEditing(true);
    else if (key.escape) setFilter('');
    else if (key.return) { if (current) setDetail(current); }
    else if (key.upArrow) move(-1);
    else if (key.downArrow) move(1);
    else if (key.pageUp) move(-(bodyHeight - 1));
    else if (key.pageDown) move(bodyHeight - 1);
    else if (key.leftArrow || key.rightArrow) {
      const i = SORT_KEYS.indexOf(sort.key) + (key.leftArrow ? -1 : 1);
      setSort({ key: SORT_KEYS[(i + SORT_KEYS.length) % SORT_KEYS.length], reverse: false });
    } else if (SORT_BY_KEY[input]) sortBy(SORT_BY_KEY[input]);
  });

  const counts = statusCounts(state);
  const header = `opsctl top  ${props.manager}  ${state.nodes.size} nodes: ${counts.online} online, ${counts.degraded} degraded, ${counts.offline} offline  sort ${sort.key}${sort.reverse ? '▲' : '▼'}`;
  const conn = connectionText(state);
  const filterText = editing ? `filter: /${filter}▏ (Enter keep, Esc clear)` : filter ? `filter: ${filter} (${rows.length} of ${state.nodes.size}; Esc clears)` : '';
  const empty = state.nodes.size === 0
    ? state.connection.state === 'live' ? 'No nodes match.' : 'Waiting for the manager…'
    : rows.length === 0 ? `No node matches "${filter}".` : undefined;

  return (
    <Box flexDirection="column" width={size.columns} height={size.rows}>
      <Text bold wrap="truncate-end">{clip(header, size.columns)}</Text>
      {detail !== undefined ? (
        <NodeDetail name={detail} state={state.nodes.get(detail)} source={props.detail} width={size.columns} height={bodyHeight} unicode={unicode} refreshMs={props.detailRefreshMs} />
      ) : empty ? (
        <Box height={bodyHeight}><Text>{clip(empty, size.columns)}</Text></Box>
      ) : (
        <NodeTable rows={rows} selected={current} sort={sort} width={size.columns} height={bodyHeight} unicode={unicode} />
      )}
      <Text wrap="truncate-end">
        <Text color={conn.colour}>{conn.text}</Text>
        {filterText && detail === undefined ? clip(`  ${filterText}`, Math.max(0, size.columns - conn.text.length)) : ''}
      </Text>
      <Text dimColor wrap="truncate-end">{clip(detail !== undefined ? DETAIL_HINTS : KEY_HINTS, size.columns)}</Text>
    </Box>
  );
}

export function App(props: AppProps) {
  return (
    <ErrorBoundary>
      <Screen {...props} />
    </ErrorBoundary>
  );
}
