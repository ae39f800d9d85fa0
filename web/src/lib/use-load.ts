import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/request';

export interface Loaded<T> { data: T | undefined; error: ApiError | Error | undefined; loading: boolean; reload(): void }

/** Loads once per change of `deps`; a newer load aborts the older one. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(abort.signal).then(
      (data) => { if (!abort.signal.aborted) setState({ data, loading: false }); },
      (error: Error) => { if (!abort.signal.aborted) setState({ error, loading: false }); },
    );
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
