import { useCallback, useRef, useState } from 'react';
import type { StreamState } from '../api/sse';

/** A live view's stream state for StreamBanner: reconnected once it was lost and came back. */
export function useStreamState() {
  const [state, setState] = useState<{ state: StreamState; detail?: string; reconnected: boolean }>({ state: 'connecting', reconnected: false });
  const lost = useRef(false);
  const onState = useCallback((s: StreamState, detail?: string) => {
    if (s === 'reconnecting') lost.current = true;
    setState({ state: s, detail, reconnected: lost.current && s === 'live' });
  }, []);
  return { ...state, onState };
}
