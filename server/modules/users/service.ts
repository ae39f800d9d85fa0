// Accounts: login checks and the first admin. Roles beyond `admin` come later.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { User as UserDto } from '../../../proto/rest.js';
import { contextEm } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { hashPassword, randomPassword, verifyPassword } from './password.js';
import { User } from './user.entity.js';

export const INITIAL_ADMIN_FILE = 'initial-admin.txt';

// Compared against when the user does not exist, so a wrong username costs as much as a wrong password.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export class UsersService {
  constructor(private readonly orm: Orm, private readonly log: Logger) {}

  /** Returns the user when the password is right; otherwise throws 401 without saying which part was wrong. */
  async verifyCredentials(username: string, password: string): Promise<UserDto> {
    const user = await contextEm(this.orm).findOne(User, { username });
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      this.log.info({ username }, 'login refused');
      throw new OpsError(ErrorCode.UNAUTHENTICATED, 'invalid username or password');
    }
    return toDto(user);
  }

  async create(username: string, password: string, role: string): Promise<UserDto> {
    const em = contextEm(this.orm);
    const user = em.create(User, { id: randomUUID(), username, passwordHash: await hashPassword(password), role, createdAt: new Date() });
    await em.flush();
    return toDto(user);
  }

  /**
   * On first start (no user at all) creates `admin` with a random password, writes it to
   * <dataDir>/initial-admin.txt (mode 0600) and returns it so the caller can show it once.
   */
  async ensureAdmin(dataDir: string): Promise<{ username: string; password: string } | undefined> {
    const em = contextEm(this.orm);
    if ((await em.count(User, {})) > 0) return undefined;
    const password = randomPassword();
    await this.create('admin', password, 'admin');
    const file = join(dataDir, INITIAL_ADMIN_FILE);
    writeFileSync(file, `username: admin\npassword: ${password}\n`, { mode: 0o600 });
    this.log.info({ file }, 'created the first user "admin"; its password is in the file');
    return { username: 'admin', password };
  }
}

function toDto(user: User): UserDto {
  return { id: user.id, username: user.username, role: user.role };
}
