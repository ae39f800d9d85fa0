// The top of the tree: a rendering bug shows its message and how to leave instead of a blank or
// garbled screen; the feed keeps running underneath and `q` still quits.
import { Box, Text, useInput, useApp } from 'ink';
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props { children: ReactNode }
interface State { error?: Error }

function Crashed({ error }: { error: Error }) {
  const { exit } = useApp();
  useInput((input) => { if (input === 'q') exit(error); });
  return (
    <Box flexDirection="column">
      <Text color="red">opsctl top failed to draw: {error.message}</Text>
      <Text>Press q to quit (set OPSCTL_DEBUG=1 for the stack).</Text>
    </Box>
  );
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = {};

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    if (process.env.OPSCTL_DEBUG) process.stderr.write(`${error.stack}\n${info.componentStack ?? ''}\n`);
  }

  override render(): ReactNode {
    if (this.state.error) return <Crashed error={this.state.error} />;
    return this.props.children;
  }
}
