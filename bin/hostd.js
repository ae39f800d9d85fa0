#!/usr/bin/env node
// hostd launcher: runs the built daemon (npm run build → dist/).
import { main } from '../dist/hostd/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`hostd: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
