import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableRow from '@mui/material/TableRow';
import type { ReactNode } from 'react';

/** A thing's fields as a two-column table: name (a row header), value. */
export function FieldsTable({ label, rows }: { label: string; rows: [string, ReactNode][] }) {
  return (
    <Table size="small" aria-label={label}>
      <TableBody>
        {rows.map(([k, v]) => (
          <TableRow key={k}><TableCell component="th" scope="row" sx={{ fontWeight: 500, width: '35%' }}>{k}</TableCell><TableCell sx={{ whiteSpace: 'normal', wordBreak: 'break-word' }}>{v}</TableCell></TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
