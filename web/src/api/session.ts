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
/** Why the last session ended: the sign-in page says "your session ended" only for 'expired'. */
let ended: 'expired' | 'signed-out' | null = null;

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
    localStorage.setItem(KEY, JSON.stringify(s));
    notify();
  },
  /** Signed out, or the manager refused the token (expired, logged out elsewhere, user deleted). */
  expire(reason: 'expired' | 'signed-out' = 'expired'): void {
    if (!current) return;
    current = null;
    ended = reason;
    localStorage.removeItem(KEY);
    notify();
  },
  endedBy(): 'expired' | 'signed-out' | null {
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
  if (e.key !== KEY) return;
  current = read();
  notify();
});
