// A table of rows already in the browser (a rollout's hosts, a schedule's fires), paged here so a
// 10,000-host rollout draws 50 rows at a time. Rows from the manager a page at a time: PagedTable.
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TablePagination from '@mui/material/TablePagination';
import TableRow from '@mui/material/TableRow';
import { useState, type ReactNode } from 'react';
import { cellSx, type Column } from './PagedTable';

interface Props<T> {
  /** The table's accessible name. */
  label: string;
  columns: Column<T>[];
  rows: T[];
  rowKey(row: T): string;
  empty?: ReactNode;
  perPage?: number;
  onRowClick?(row: T): void;
  selectedKey?: string;
}

export function RowsTable<T>({ label, columns, rows, rowKey, empty = 'Nothing here.', perPage = 50, onRowClick, selectedKey }: Props<T>) {
  const [page, setPage] = useState(0);
  const last = Math.max(0, Math.ceil(rows.length / perPage) - 1);
  const shown = Math.min(page, last);
  return (
    <Paper variant="outlined" sx={{ mb: 2 }}>
      <TableContainer tabIndex={0} role="region" aria-label={`${label} (scrolls sideways when wide)`}>
        <Table size="small" aria-label={label}>
          <TableHead>
            <TableRow>{columns.map((c) => <TableCell key={c.label} align={c.align} sx={cellSx(c)}>{c.label}</TableCell>)}</TableRow>
          </TableHead>
          <TableBody>
            {rows.slice(shown * perPage, (shown + 1) * perPage).map((row) => (
              <TableRow key={rowKey(row)} hover={!!onRowClick} selected={selectedKey === rowKey(row)} onClick={onRowClick ? () => onRowClick(row) : undefined}
                sx={onRowClick ? { cursor: 'pointer' } : undefined}>
                {columns.map((c) => <TableCell key={c.label} align={c.align} sx={cellSx(c)}>{c.render(row)}</TableCell>)}
              </TableRow>
            ))}
            {rows.length === 0 && <TableRow><TableCell colSpan={columns.length}>{empty}</TableCell></TableRow>}
          </TableBody>
        </Table>
      </TableContainer>
      {rows.length > perPage && (
        <TablePagination component="div" count={rows.length} page={shown} rowsPerPage={perPage} rowsPerPageOptions={[perPage]}
          onPageChange={(_e, p: number) => setPage(p)} />
      )}
    </Paper>
  );
}
