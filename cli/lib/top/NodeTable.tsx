// The node list: a header line and one line per node, scrolled so the selected node stays in view.
import { Box, Text } from 'ink';
import { useRef } from 'react';
import type { NodeStatus } from '../../../proto/rest/nodes.js';
import { headerLine, layout, rowLine } from './columns.js';
import type { Row, Sort } from './model.js';

const STATUS_COLOUR: Record<NodeStatus, string> = { online: 'green', degraded: 'yellow', offline: 'red' };

interface Props {
  rows: Row[];
  selected: string | undefined;
  sort: Sort;
  width: number;
  /** Lines for the table, its header included. */
  height: number;
  unicode: boolean;
}

export function NodeTable({ rows, selected, sort, width, height, unicode }: Props) {
  const l = layout(width, Math.max(0, ...rows.map((r) => r.name.length)));
  const visible = Math.max(1, height - 1);
  const offset = useRef(0);
  const index = Math.max(0, rows.findIndex((r) => r.name === selected));
  // Scroll only as far as needed to keep the selection on screen.
  if (index < offset.current) offset.current = index;
  if (index >= offset.current + visible) offset.current = index - visible + 1;
  offset.current = Math.max(0, Math.min(offset.current, rows.length - visible));
  const shown = rows.slice(offset.current, offset.current + visible);
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate-end">{headerLine(l, sort)}</Text>
      {shown.map((r) => {
        const line = rowLine(l, r, unicode);
        const isSelected = r.name === selected;
        // The status word in colour; the rest plain (inverse when selected).
        const at = l.name + 1;
        return (
          <Text key={r.name} inverse={isSelected} wrap="truncate-end">
            {line.slice(0, at)}
            <Text color={STATUS_COLOUR[r.status]}>{line.slice(at, at + r.status.length)}</Text>
            {line.slice(at + r.status.length)}
          </Text>
        );
      })}
    </Box>
  );
}
