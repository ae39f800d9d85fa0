// The terminal's size, following resizes (SIGWINCH reaches Ink's stdout as a 'resize' event).
// A fixed size can be given instead: tests render at 80×24 whatever stream they draw to.
import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface TerminalSize { columns: number; rows: number }

export function useTerminalSize(fixed?: TerminalSize): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => fixed ?? { columns: stdout.columns || 80, rows: stdout.rows || 24 };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => { stdout.off('resize', onResize); };
  }, [stdout, fixed]);
  return fixed ?? size;
}
