import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { generateReleaseKey, publicKeyId } from '../../../proto/release.js';
import { BaseCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';

export default class ReleaseKeygen extends BaseCommand {
  static override summary = 'Make an Ed25519 key pair for signing releases.';
  static override description = 'Write a new release signing key to FILE (mode 0600; an existing file is never overwritten) and print its public key ' +
    'and key id. The private key stays with you: the manager never holds it. Put the public key in the manager\'s releases.trustedKeys (so it ' +
    'accepts uploads signed with it) and in each host\'s hostd.yaml (so hosts install them).';
  static override aliases = ['releases:keygen'];
  static override examples = ['<%= config.bin %> release keygen --out release.key'];
  static override flags = {
    out: Flags.string({ description: 'Where to write the key file (refused if it exists).', required: true, helpValue: 'FILE' }),
  };

  async run(): Promise<{ file: string; publicKey: string; keyId: string }> {
    const { flags } = await this.parse(ReleaseKeygen);
    const key = generateReleaseKey();
    let fd: number;
    try {
      // 'wx': fails when the file exists, so a key is never replaced by accident.
      fd = openSync(flags.out, 'wx', 0o600);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new CliError(e.code === 'EEXIST' ? `${flags.out} exists: not overwriting a key (choose another --out)` : `writing ${flags.out}: ${e.message}`);
    }
    try {
      fchmodSync(fd, 0o600); // whatever the umask
      writeSync(fd, JSON.stringify(key, null, 2) + '\n');
    } finally {
      closeSync(fd);
    }
    const keyId = publicKeyId(key.publicKey);
    this.write(`publicKey\t${key.publicKey}\nkeyId\t${keyId}\n`);
    this.note(`Wrote ${flags.out} (0600): keep it private. Trust its public key in manager.yaml (releases.trustedKeys) and in hostd.yaml.`);
    return { file: flags.out, publicKey: key.publicKey, keyId };
  }
}
