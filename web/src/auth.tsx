// Who is signed in and what they may do (the permissions GET /auth/whoami reports). What a user
// may not do is not offered: pages and buttons ask can('tasks:cancel').
import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { Whoami } from '../../proto/rest/auth';
import type { Permission } from '../../proto/permissions';
import { authApi } from './api/auth';
import { session } from './api/session';

interface Auth {
  /** null until whoami answered (or when signed out). */
  me: Whoami | null;
  signedIn: boolean;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  can(permission: Permission): boolean;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const stored = useSyncExternalStore(session.subscribe, session.get);
  const [me, setMe] = useState<Whoami | null>(null);

  useEffect(() => {
    setMe(null);
    if (!stored) return;
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    // A refused token ends the session in the request helper; a manager that did not answer is
    // asked again, so the pages the user may see appear once it is back.
    const ask = () => authApi.whoami().then((w) => { if (!cancelled) setMe(w); }, () => { if (!cancelled) retry = setTimeout(ask, 3000); });
    void ask();
    return () => { cancelled = true; clearTimeout(retry); };
  }, [stored]);

  const signIn = useCallback(async (username: string, password: string) => {
    const res = await authApi.login(username, password);
    session.set({ token: res.token, username: res.user.username, expiresAt: res.expiresAt });
  }, []);

  const signOut = useCallback(async () => {
    await authApi.logout().catch(() => undefined);
    session.expire('signed-out');
  }, []);

  const value = useMemo<Auth>(() => ({
    me, signedIn: stored !== null, signIn, signOut,
    can: (p) => me?.permissions.includes(p) ?? false,
  }), [me, stored, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}
