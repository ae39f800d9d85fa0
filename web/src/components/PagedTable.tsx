// A table whose rows come a page at a time from the manager (cursor paging, as every list route
// pages): only one page is ever in the browser, so a 10,000-node fleet costs what 50 rows cost.
import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TablePagination from '@mui/material/TablePagination';
import TableRow from '@mui/material/TableRow';
import Paper from '@mui/material/Paper';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Page } from '../api/request';
import { useLoad } from '../lib/use-load';
import { ErrorAlert } from './ErrorAlert';

export interface Column<T> {
  label: string;
  render(row: T): ReactNode;
  align?: 'left' | 'right';
  /** Hidden on a phone-sized screen. */
  wide?: boolean;
  /** Long text (a message, an error) wraps; cells stay on one line otherwise. */
  wrap?: boolean;
}

/** A column's cell style: hidden on a phone when wide, wrapping when wrap. */
export function cellSx<T>(c: Column<T>) {
  if (!c.wide && !c.wrap) return undefined;
  return { ...(c.wide ? { display: { xs: 'none', md: 'table-cell' } } : {}), ...(c.wrap ? { whiteSpace: 'normal', minWidth: 160 } : {}) };
}

interface Props<T> {
  /** The table's accessible name. */
  label: string;
  columns: Column<T>[];
  rowKey(row: T): string;
  fetchPage(limit: number, cursor: string | undefined, signal: AbortSignal): Promise<Page<T>>;
  /** A change (a new filter) starts again at the first page. */
  resetKey?: string;
  empty?: ReactNode;
  onRowClick?(row: T): void;
  selectedKey?: string;
  pageSizes?: number[];
  /** Hears each page's rows once loaded (e.g. to follow their live metrics). */
  onRows?(rows: T[]): void;
}

export function PagedTable<T>(props: Props<T>) {
  // A new filter is a new table: first page, no cursors kept.
  return <Pages key={props.resetKey ?? ''} {...props} />;
}

function Pages<T>({ label, columns, rowKey, fetchPage, empty = 'Nothing here.', onRowClick, selectedKey, pageSizes = [25, 50, 100], onRows }: Props<T>) {
  const [pageSize, setPageSize] = useState(pageSizes[0]!);
  // cursors[i] opens page i (undefined for the first).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState(0);
  const loaded = useLoad((signal) => fetchPage(pageSize, cursors[page], signal), [pageSize, page, cursors[page]]);
  const rows = loaded.data?.data ?? [];
  const onRowsRef = useRef(onRows);
  onRowsRef.current = onRows;
  useEffect(() => { if (loaded.data) onRowsRef.current?.(loaded.data.data); }, [loaded.data]);
  const next = loaded.data?.next ?? null;
  const count = next ? -1 : page * pageSize + rows.length;

  return (
    <Paper variant="outlined">
      <Box sx={{ height: 4 }}>{loaded.loading && <LinearProgress aria-label={`Loading ${label}`} />}</Box>
      <ErrorAlert error={loaded.error} what={label.toLowerCase()} />
      {/* Focusable: a wide table scrolls sideways, and the keyboard must reach that too. */}
      <TableContainer tabIndex={0} role="region" aria-label={`${label} (scrolls sideways when wide)`}>
        <Table size="small" aria-label={label}>
          <TableHead>
            <TableRow>
              {columns.map((c) => <TableCell key={c.label} align={c.align} sx={cellSx(c)}>{c.label}</TableCell>)}
            </TableRow>
          </TableHead>
          <TableBody>
            {rows.map((row) => {
              const key = rowKey(row);
              return (
                <TableRow key={key} hover={!!onRowClick} selected={selectedKey === key} onClick={onRowClick ? () => onRowClick(row) : undefined}
                  sx={onRowClick ? { cursor: 'pointer' } : undefined}>
                  {columns.map((c) => <TableCell key={c.label} align={c.align} sx={cellSx(c)}>{c.render(row)}</TableCell>)}
                </TableRow>
              );
            })}
            {!loaded.loading && !loaded.error && rows.length === 0 && (
              <TableRow><TableCell colSpan={columns.length}>{empty}</TableCell></TableRow>
            )}
          </TableBody>
        </Table>
      </TableContainer>
      <TablePagination
        component="div" count={count} page={page} rowsPerPage={pageSize} rowsPerPageOptions={pageSizes}
        onPageChange={(_e, p: number) => {
          if (p > page && next) setCursors((c) => { const copy = c.slice(0, p); copy[p] = next; return copy; });
          setPage(p);
        }}
        onRowsPerPageChange={(e) => { setPageSize(Number(e.target.value)); setCursors([undefined]); setPage(0); }}
        labelDisplayedRows={({ from, to, count: c }) => `${from}–${to}${c === -1 ? ' of more' : ` of ${c}`}`}
      />
    </Paper>
  );
}

/** A whole list the route returns at once, paged in the browser the same way. */
export function pagesOf<T>(load: (signal: AbortSignal) => Promise<T[]>) {
  return async (limit: number, cursor: string | undefined, signal: AbortSignal): Promise<Page<T>> => {
    const all = await load(signal);
    const from = cursor ? Number(cursor) : 0;
    return { data: all.slice(from, from + limit), next: from + limit < all.length ? String(from + limit) : null };
  };
}
