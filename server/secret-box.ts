// Encryption at rest for secret values (secret task environment): AES-256-GCM with a key from
// config (secrets.key) or generated once in <dataDir>/secrets.key (mode 0600). Sealed values are
// `v1.<iv>.<tag>.<ciphertext>` in base64url, so the format can change without guessing.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileOnceSync } from '../lib/atomic-write.js';

export const SECRETS_KEY_FILE = 'secrets.key';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The configured key, or the one kept in <dataDir>/secrets.key (created on first use). */
  static load(configKey: string, dataDir: string): SecretBox {
    if (configKey) return new SecretBox(Buffer.from(configKey, 'base64'));
    const file = join(dataDir, SECRETS_KEY_FILE);
    if (!existsSync(file)) createFileOnceSync(file, `${randomBytes(32).toString('base64')}\n`, 0o600);
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} must hold base64 of 32 bytes`);
    return new SecretBox(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
