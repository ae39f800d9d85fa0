// The signed-in session, kept in the browser (localStorage, so a shared link opened in another tab
// is signed in too). When the manager stops accepting the token, expire() forgets it and tells the
// app, which goes to the sign-in page and comes back after.
const KEY = 'opsctl.session';

export interface StoredSession { token: string; username: string; expiresAt: string }

type Listener = () => void;
const listeners = new Set<Listener>();

function read(): StoredSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as StoredSession;
    return typeof s.token === 'string' && s.token !== '' ? s : null;
  } catch {
    return null;
  }
}

let current: StoredSession | null = read();
/**
 * Why the last session ended, kept in the browser too: the tab that noticed the expiry may not be
 * the one the user reloads. The sign-in page says "your session has ended" only for 'expired'.
 */
const ENDED_KEY = 'opsctl.session-ended';
type Ended = 'expired' | 'signed-out';
let ended: Ended | null = localStorage.getItem(ENDED_KEY) === 'expired' ? 'expired' : null;

export const session = {
  get(): StoredSession | null {
    return current;
  },
  token(): string | null {
    return current?.token ?? null;
  },
  set(s: StoredSession): void {
    current = s;
    ended = null;
    localStorage.removeItem(ENDED_KEY);
    localStorage.setItem(KEY, JSON.stringify(s));
    notify();
  },
  /** Signed out, or the manager refused the token (expired, logged out elsewhere, user deleted). */
  expire(reason: Ended = 'expired'): void {
    if (!current) return;
    current = null;
    ended = reason;
    localStorage.setItem(ENDED_KEY, reason);
    localStorage.removeItem(KEY);
    notify();
  },
  endedBy(): Ended | null {
    return ended;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

function notify() {
  for (const l of listeners) l();
}

// Another tab signed in or out.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY && e.key !== ENDED_KEY) return;
  current = read();
  ended = current ? null : (localStorage.getItem(ENDED_KEY) as Ended | null);
  notify();
});
