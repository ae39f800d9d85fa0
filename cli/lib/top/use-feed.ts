// The top state from a feed. Samples arrive every couple of seconds from every node; applying each
// at once would redraw the screen dozens of times a second with 25 nodes, so events are folded into
// the state as they come and the screen gets the result at most every `flushMs`.
import { useEffect, useRef, useState } from 'react';
import type { FeedSource } from './live.js';
import { applyEvent, emptyState, type TopState } from './model.js';

/**
 * As often as watched hosts sample (metrics.liveIntervalSeconds, 2 s), like top's own 2-3 s: each
 * redraw builds the whole 80×24 frame, and that, not the stream, is what top costs while idle.
 */
export const FLUSH_MS = 2000;

export function useFeed(feed: FeedSource, flushMs = FLUSH_MS): TopState {
  const latest = useRef<TopState>(emptyState());
  const [state, setState] = useState<TopState>(latest.current);
  useEffect(() => {
    let timer: NodeJS.Timeout | undefined;
    const flush = () => { timer = undefined; setState(latest.current); };
    const unsubscribe = feed.subscribe((ev) => {
      latest.current = applyEvent(latest.current, ev);
      // The first picture and connection changes show at once; samples wait for the next flush.
      if (ev.type === 'snapshot' || ev.type === 'connection' || flushMs <= 0) { if (timer) clearTimeout(timer); flush(); return; }
      timer ??= setTimeout(flush, flushMs);
    });
    return () => { unsubscribe(); if (timer) clearTimeout(timer); };
  }, [feed, flushMs]);
  return state;
}
