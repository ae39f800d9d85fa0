// Accounts: users, their passwords and login sessions. Every change is checked against what the
// caller holds (no one hands on more than they have) and ends the sessions it should.
import { randomUUID } from 'node:crypto';
import { writeFileAtomicSync } from '../../../lib/atomic-write.js';
import { join } from 'node:path';
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { ChangePasswordRequest, CreateUserRequest, PasswordChanged, SetRoleRequest, UserCreated, UserView } from '../../../proto/rest/users.js';
import type { AccessChanges } from '../../access/changes.js';
import { isScoped, requireGrantable, requirePermission, type Principal, type ScopeGroupCheck } from '../../access/principal.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import type { RolesService } from '../roles/service.js';
import { hashPassword, randomPassword, verifyPassword } from './password.js';
import { Session } from './session.entity.js';
import { User } from './user.entity.js';

export const INITIAL_ADMIN_FILE = 'initial-admin.txt';

// Compared against when the user does not exist, so a wrong username costs as much as a wrong password.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export class UsersService {
  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly roles: RolesService,
    private readonly changes: AccessChanges,
    private readonly scopes: ScopeGroupCheck,
  ) {
    roles.countUsesWith((em, role) => em.count(User, { role }));
  }

  // ---- login sessions

  /** Returns the user when the password is right; otherwise throws 401 without saying which part was wrong. */
  async verifyCredentials(username: string, password: string): Promise<User> {
    const user = await contextEm(this.orm).findOne(User, { username });
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      this.log.info({ username }, 'login refused');
      throw new OpsError(ErrorCode.UNAUTHENTICATED, 'invalid username or password');
    }
    return user;
  }

  /** A new login session; the user's expired ones are dropped, so the table does not grow forever. */
  async startSession(user: User, ttlSeconds: number, source: string): Promise<Session> {
    const em = contextEm(this.orm);
    await em.nativeDelete(Session, { user: user.id, expiresAt: { $lt: new Date() } });
    const session = em.create(Session, {
      id: randomUUID(), user, createdAt: new Date(), expiresAt: new Date(Date.now() + ttlSeconds * 1000), revokedAt: null, source: source.slice(0, 64),
    });
    await em.flush();
    return session;
  }

  /** The principal of a live session of an existing user, or null. */
  async sessionPrincipal(sessionId: string, userId: string): Promise<Principal | null> {
    const session = await contextEm(this.orm).findOne(Session, { id: sessionId, user: userId }, { populate: ['user'] });
    if (!session || session.revokedAt || session.expiresAt.getTime() <= Date.now()) return null;
    return this.principalOf(session.user, session);
  }

  /**
   * The principal a user acts as outside a login (a schedule firing for the user who created it),
   * with the role and scope the user has now; null when the user or its role no longer exists.
   */
  async userPrincipal(userId: string): Promise<Principal | null> {
    const user = await contextEm(this.orm).findOne(User, { id: userId });
    return user ? this.principalOf(user, null) : null;
  }

  private async principalOf(u: User, session: Session | null): Promise<Principal | null> {
    const permissions = await this.roles.permissionsOf(u.role);
    if (!permissions) return null;
    return {
      kind: 'user', id: u.id, name: u.username, userId: u.id, owner: null, role: u.role, permissions,
      scopeGroups: u.scopeGroups ?? [], sessionId: session?.id ?? null, expiresAt: session?.expiresAt ?? null,
    };
  }

  async endSession(principal: Principal): Promise<void> {
    if (principal.kind !== 'user' || !principal.sessionId) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `logout ends a login session; a ${principal.kind === 'token' ? 'token is revoked with opsctl tokens revoke' : 'client token expires by itself'}`);
    }
    await contextEm(this.orm).nativeUpdate(Session, { id: principal.sessionId }, { revokedAt: new Date() });
    this.changes.changed();
  }

  /** Ends every live session of the user except `keep`; returns how many. */
  private async endSessionsOf(userId: string, keep?: string | null): Promise<number> {
    const where = { user: userId, revokedAt: null, expiresAt: { $gt: new Date() }, ...(keep ? { id: { $ne: keep } } : {}) };
    const count = await contextEm(this.orm).nativeUpdate(Session, where, { revokedAt: new Date() });
    this.changes.changed();
    return count;
  }

  // ---- users

  async list(): Promise<UserView[]> {
    return (await contextEm(this.orm).find(User, {}, { orderBy: { username: 'asc' } })).map(toUserView);
  }

  async get(username: string): Promise<UserView> {
    return toUserView(await this.require(username));
  }

  async create(by: Principal, input: CreateUserRequest): Promise<UserCreated> {
    const scopeGroups = input.scopeGroups ?? [...by.scopeGroups];
    requireGrantable(by, await this.roles.requireRole(input.role), scopeGroups);
    await this.scopes.requireExisting(input.scopeGroups ?? []);
    const generated = input.password === undefined ? randomPassword() : null;
    const em = contextEm(this.orm);
    const now = new Date();
    const user = em.create(User, {
      id: randomUUID(), username: input.username, passwordHash: await hashPassword(input.password ?? generated!),
      role: input.role, scopeGroups, createdAt: now, updatedAt: now,
    });
    try {
      await em.flush();
    } catch (err) {
      if (isUniqueViolation(err)) throw new OpsError(ErrorCode.CONFLICT, `user "${input.username}" already exists`);
      throw err;
    }
    return { user: toUserView(user), password: generated };
  }

  async remove(by: Principal, username: string): Promise<void> {
    const user = await this.require(username);
    if (user.id === by.userId) throw new OpsError(ErrorCode.CONFLICT, 'you cannot delete yourself');
    await this.requireManageable(by, user);
    await this.requireAnotherAdmin(user, 'delete');
    // Sessions and API tokens go with the user (foreign keys cascade).
    await contextEm(this.orm).remove(user).flush();
    this.changes.changed();
  }

  async setRole(by: Principal, username: string, input: SetRoleRequest): Promise<UserView> {
    const user = await this.require(username);
    if (user.id === by.userId) throw new OpsError(ErrorCode.FORBIDDEN, 'you cannot change your own role');
    await this.requireManageable(by, user);
    const scopeGroups = input.scopeGroups ?? user.scopeGroups;
    requireGrantable(by, await this.roles.requireRole(input.role), scopeGroups);
    await this.scopes.requireExisting(input.scopeGroups ?? []);
    if (input.role !== 'admin') await this.requireAnotherAdmin(user, 'demote');
    user.role = input.role;
    user.scopeGroups = [...scopeGroups];
    user.updatedAt = new Date();
    await contextEm(this.orm).flush();
    this.changes.changed();
    return toUserView(user);
  }

  /**
   * One's own password (the current one is required; other sessions end), or an admin's reset of
   * someone else's (every session of theirs ends).
   */
  async changePassword(by: Principal, username: string, input: ChangePasswordRequest): Promise<PasswordChanged> {
    const user = await this.require(username);
    const own = user.id === by.userId;
    if (own) {
      if (by.kind !== 'user') throw new OpsError(ErrorCode.FORBIDDEN, 'a password is changed by its user signed in, not with a token');
      if (input.currentPassword === undefined) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'body/currentPassword is required to change your own password');
      if (!(await verifyPassword(input.currentPassword, user.passwordHash))) throw new OpsError(ErrorCode.FORBIDDEN, 'current password is wrong');
      if (input.newPassword === undefined) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'body/newPassword is required');
    } else {
      requirePermission(by, 'users:write');
      await this.requireManageable(by, user);
    }
    const generated = input.newPassword === undefined ? randomPassword() : null;
    user.passwordHash = await hashPassword(input.newPassword ?? generated!);
    user.updatedAt = new Date();
    await contextEm(this.orm).flush();
    const sessionsRevoked = await this.endSessionsOf(user.id, own ? by.sessionId : null);
    return { password: generated, sessionsRevoked };
  }

  /**
   * On first start (no user at all) creates `admin` with a random password, writes it to
   * <dataDir>/initial-admin.txt (mode 0600) and returns it so the caller can show it once.
   */
  async ensureAdmin(dataDir: string): Promise<{ username: string; password: string } | undefined> {
    const em = this.orm.em.fork();
    if ((await em.count(User, {})) > 0) return undefined;
    const password = randomPassword();
    const now = new Date();
    em.create(User, { id: randomUUID(), username: 'admin', passwordHash: await hashPassword(password), role: 'admin', scopeGroups: [], createdAt: now, updatedAt: now });
    await em.flush();
    const file = join(dataDir, INITIAL_ADMIN_FILE);
    writeFileAtomicSync(file, `username: admin\npassword: ${password}\n`, 0o600);
    this.log.info({ file }, 'created the first user "admin"; its password is in the file');
    return { username: 'admin', password };
  }

  private async require(username: string): Promise<User> {
    const user = await contextEm(this.orm).findOne(User, { username });
    if (!user) throw new OpsError(ErrorCode.NOT_FOUND, `user "${username}" not found`);
    return user;
  }

  /** A caller may manage only users who hold no more than it does, within its own scope. */
  private async requireManageable(by: Principal, user: User): Promise<void> {
    const theirs = (await this.roles.permissionsOf(user.role)) ?? new Set();
    const beyond = [...theirs].filter((p) => !by.permissions.has(p));
    if (beyond.length) throw new OpsError(ErrorCode.FORBIDDEN, `user "${user.username}" holds permissions you do not (${beyond.slice(0, 3).join(', ')}${beyond.length > 3 ? ', …' : ''})`);
    if (isScoped(by) && (user.scopeGroups.length === 0 || user.scopeGroups.some((g) => !by.scopeGroups.includes(g)))) {
      throw new OpsError(ErrorCode.FORBIDDEN, `user "${user.username}" reaches nodes outside your scope`);
    }
  }

  private async requireAnotherAdmin(user: User, what: string): Promise<void> {
    if (user.role !== 'admin') return;
    const admins = await contextEm(this.orm).count(User, { role: 'admin' });
    if (admins <= 1) throw new OpsError(ErrorCode.CONFLICT, `cannot ${what} the last admin`);
  }
}

export function toUserView(user: User): UserView {
  return { id: user.id, username: user.username, role: user.role, scopeGroups: user.scopeGroups ?? [], createdAt: user.createdAt.toISOString() };
}
