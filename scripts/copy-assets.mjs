// Copies what tsc does not emit into dist/: nothing is needed today beyond the .proto files,
// which proto/hostlink.ts finds from the package root, so this only checks they are present.
import { existsSync } from 'node:fs';
if (!existsSync('proto/hostlink/v1/hostlink.proto')) {
  console.error('proto/hostlink/v1/hostlink.proto is missing');
  process.exit(1);
}
