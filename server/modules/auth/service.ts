// Turns a bearer credential into the principal it stands for — a user's session, an API token or
// an OAuth2 client — checking it against the database at most every auth.cacheSeconds, so a
// deleted user, a changed role or a revoked token stops working within seconds.
import type { Principal } from '../../access/principal.js';
import type { AccessChanges } from '../../access/changes.js';
import type { AccessClaims, Authenticator } from '../../http/access.js';
import type { ApiTokensService } from '../api-tokens/service.js';
import type { OAuthClientsService } from '../oauth-clients/service.js';
import type { UsersService } from '../users/service.js';

const MAX_CACHED = 10_000;

export class AuthService implements Authenticator {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly users: UsersService,
    private readonly apiTokens: ApiTokensService,
    private readonly clients: OAuthClientsService,
    changes: AccessChanges,
    private readonly cacheMs: number,
  ) {
    changes.onChange(() => this.cache.clear());
  }

  fromClaims(claims: AccessClaims): Promise<Principal | null> {
    const expiresAt = claims.exp ? new Date(claims.exp * 1000) : null;
    if (claims.typ === 'client') return this.cached(`c:${claims.sub}:${claims.exp}`, () => this.clients.principal(claims.sub, expiresAt));
    if (claims.typ === 'user' && claims.sid) return this.cached(`s:${claims.sid}`, () => this.users.sessionPrincipal(claims.sid!, claims.sub));
    return Promise.resolve(null);
  }

  fromApiToken(token: string): Promise<Principal | null> {
    return this.cached(`t:${token}`, () => this.apiTokens.principal(token));
  }

  private async cached(key: string, load: () => Promise<Principal | null>): Promise<Principal | null> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.principal;
    const principal = await load();
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { principal, until: now + this.cacheMs });
    return principal;
  }
}
