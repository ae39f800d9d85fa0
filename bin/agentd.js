#!/usr/bin/env node
// agentd launcher: the compiled daemon lives in dist/ (npm run build).
import { main } from '../dist/agentd/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`agentd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
