// REST bodies of /files: an upload's content is stored on the manager by its SHA-256 first
// (PUT /files/<sha256>, raw bytes), then a `file` task with op `upload` sends it to the nodes.
import { Type, type Static } from '@sinclair/typebox';

export const FileHashParams = Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) });

export const StoredFileSchema = Type.Object({
  sha256: Type.String(),
  size: Type.Integer(),
  /** False when the manager had this content already and kept the copy it had. */
  created: Type.Boolean(),
});
export type StoredFileDto = Static<typeof StoredFileSchema>;
