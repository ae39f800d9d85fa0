// A node's output as text (React escapes it; plainText drops terminal escapes). Only the end of a
// long output is put in the page, so a 5 MB log keeps the page responsive; the download has all.
import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { useEffect, useRef } from 'react';
import { formatBytes } from '../lib/format';

export const SHOWN_TAIL_CHARS = 200_000;

/** hiddenChars: how much of the output's start is left out (only the tail is in the page). */
export function OutputView({ text, label, hiddenChars }: { text: string; label: string; hiddenChars: number }) {
  const ref = useRef<HTMLPreElement>(null);
  const atEnd = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <Box>
      {hiddenChars > 0 && (
        <Typography variant="body2" color="text.secondary" sx={{ mb: 0.5 }}>
          The first {formatBytes(hiddenChars)} are not shown here; download the log for all of it.
        </Typography>
      )}
      <Box
        component="pre" ref={ref} tabIndex={0} aria-label={label} data-testid="output"
        onScroll={(e) => { const el = e.currentTarget; atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24; }}
        sx={{
          m: 0, p: 1.5, maxHeight: 480, overflow: 'auto', fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 13,
          whiteSpace: 'pre-wrap', wordBreak: 'break-all', bgcolor: 'action.hover', borderRadius: 1,
        }}
      >
        {text === '' ? '(no output yet)' : text}
      </Box>
    </Box>
  );
}
