// How tasks of each kind are named in `tasks ls` and `tasks show`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { taskTitle } from '../../cli/lib/tasks/render.js';

test('each kind says what it does in a few words', () => {
  assert.is(taskTitle({ kind: 'script', script: '#!/bin/sh\nuptime\n', params: null }), 'uptime');
  assert.is(taskTitle({ kind: 'file', script: '', params: { op: 'upload', path: '/etc/app.conf', sha256: 'ab' } }), 'file upload /etc/app.conf');
  assert.is(taskTitle({ kind: 'file', script: '', params: { op: 'copy', path: '/a', dest: '/b' } }), 'file copy /a /b');
  assert.is(taskTitle({ kind: 'service', script: '', params: { action: 'restart', name: 'nginx' } }), 'service restart nginx');
  assert.is(taskTitle({ kind: 'plugin', script: '', params: { name: 'http-probe', params: { url: 'http://x/', expect: '200' } } }), 'plugin http-probe url=http://x/ expect=200');
  assert.is(taskTitle({ kind: 'file', script: '', params: { op: 'delete', path: `/${'x'.repeat(80)}` } }, 20), 'file delete /xxxxxx…');
});

test.run();
