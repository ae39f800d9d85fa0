import { EntitySchema } from '@mikro-orm/core';

/** One uploaded, verified host bundle: a version for one platform and arch. The bundle is a file under <dataDir>/releases. */
export class Release {
  id!: string;
  version!: string;
  component!: string;
  platform!: string;
  arch!: string;
  file!: string;
  size!: number;
  sha256!: string;
  /** The manifest's exact signed text and its signature: what every host checks again. */
  manifest!: string;
  signature!: string;
  keyId!: string;
  createdAt!: Date;
  expiresAt!: Date;
  notes = '';
  uploadedAt: Date = new Date();
  uploadedBy!: string;
}

export const ReleaseSchema = new EntitySchema<Release>({
  class: Release,
  tableName: 'releases',
  uniques: [{ properties: ['version', 'platform', 'arch'] }],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    version: { type: 'string', length: 64 },
    component: { type: 'string', length: 16 },
    platform: { type: 'string', length: 32 },
    arch: { type: 'string', length: 32 },
    file: { type: 'string', length: 255 },
    // double: a plain number in JS on both databases, exact for any size a bundle can have.
    size: { type: 'double' },
    sha256: { type: 'string', length: 64 },
    manifest: { type: 'text' },
    signature: { type: 'string', length: 128 },
    keyId: { type: 'string', length: 32 },
    createdAt: { type: 'datetime', length: 3 },
    expiresAt: { type: 'datetime', length: 3 },
    notes: { type: 'text' },
    uploadedAt: { type: 'datetime', length: 3 },
    uploadedBy: { type: 'string', length: 300 },
  },
});
