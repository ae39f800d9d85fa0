// Runs the top screen on the terminal: the first connection before anything is drawn (so a bad
// login or an unreachable manager is a plain error), then the alternate screen until q or Ctrl-C,
// leaving the terminal as it was found (main screen back, cursor shown) however it ends.
import { createElement } from 'react';
import { render } from 'ink';
import type { ApiClient } from '../api-client.js';
import { App } from './App.js';
import { apiDetailSource } from './detail-source.js';
import { LiveFeed } from './feed.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

export async function runTop(api: ApiClient, path: string): Promise<void> {
  const feed = new LiveFeed(api, path);
  await feed.start();
  const out = process.stdout;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    out.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
  };
  // Even a crash or a kill by SIGTERM must not leave the terminal on the alternate screen.
  process.once('exit', restore);
  out.write(ENTER_ALT_SCREEN);
  const instance = render(createElement(App, { feed, detail: apiDetailSource(api), manager: api.server }), { exitOnCtrlC: true, patchConsole: true });
  const onTerm = () => instance.unmount();
  process.once('SIGTERM', onTerm);
  try {
    await instance.waitUntilExit();
  } finally {
    feed.close();
    process.off('SIGTERM', onTerm);
    restore();
  }
}
