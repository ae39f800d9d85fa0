// The `opsctl top` screen: a header with the fleet's counts, the node table (or one node's detail),
// a status line (connection, filter) and the key hints, within the terminal's size.
import { Box, Text, useApp, useInput } from 'ink';
import { useEffect, useReducer, useRef } from 'react';
import type { DetailSource } from './detail-source.js';
import { ErrorBoundary } from './ErrorBoundary.js';
import type { FeedSource } from './live.js';
import { currentName, initialUi, reduceKey, type Keys, type UiState } from './keys.js';
import { statusCounts, visibleRows, type TopState } from './model.js';
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
  const bodyHeight = Math.max(1, size.rows - 3);
  // Keys reduce against the newest feed state, which a render may not have shown yet.
  const latest = useRef({ state, page: bodyHeight - 1 });
  latest.current = { state, page: bodyHeight - 1 };
  const [ui, dispatch] = useReducer(
    (u: UiState, k: { input: string; key: Keys }) => reduceKey(u, k.input, k.key, latest.current.state, latest.current.page),
    undefined,
    initialUi,
  );
  const unicode = props.unicode ?? true;
  const { sort, filter, editing, detail } = ui;
  const rows = visibleRows(state, sort, filter);
  const current = currentName(rows, ui);

  useInput((input, key) => {
    // Keys typed quickly (or pasted, or sent by tmux) arrive as one string: one key each.
    if (input.length > 1 && !key.ctrl && !key.meta) for (const ch of input) dispatch({ input: ch, key: {} });
    else dispatch({ input, key });
  });
  useEffect(() => { if (ui.quit) exit(); }, [ui.quit, exit]);

  const counts = statusCounts(state);
  const manager = props.manager.replace(/^https?:\/\//, '');
  const header = `${manager}  ${state.nodes.size} nodes: ${counts.online} online, ${counts.degraded} degraded, ${counts.offline} offline  sort ${sort.key}${sort.reverse ? '▲' : '▼'}`;
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
