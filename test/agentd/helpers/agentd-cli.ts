// Runs agentd's real main() from the TypeScript sources (via tsx), so process-level tests do not
// depend on a fresh `npm run build`: node --import tsx test/agentd/helpers/agentd-cli.ts [FLAGS]
import { main } from '../../../agentd/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => { process.stderr.write(`agentd: ${(err as Error).stack}\n`); process.exit(1); },
);
