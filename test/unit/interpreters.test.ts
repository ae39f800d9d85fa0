// The interpreter table (proto/interpreters.ts): what a script's #! line names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { interpreterFromShebang } from '../../proto/interpreters.js';

test('#! lines name the interpreter, through env and with versions', () => {
  assert.is(interpreterFromShebang('#!/bin/sh\necho hi'), 'sh');
  assert.is(interpreterFromShebang('#!/bin/bash -eu\n'), 'bash');
  assert.is(interpreterFromShebang('#!/usr/bin/env bash\n'), 'bash');
  assert.is(interpreterFromShebang('#!/usr/bin/env python3\n'), 'python');
  assert.is(interpreterFromShebang('#!/usr/bin/python3.11\n'), 'python');
  assert.is(interpreterFromShebang('#!/usr/bin/env -S pwsh -NoProfile\n'), 'pwsh');
  assert.is(interpreterFromShebang('echo no shebang\n'), undefined);
});

test('an interpreter it does not know is an error naming the line and the choices', () => {
  const err = interpreterFromShebang('#!/usr/bin/perl -w\nprint 1;');
  assert.instance(err, Error);
  assert.match((err as Error).message, /cannot tell the interpreter from "#!\/usr\/bin\/perl -w": use --interpreter \(sh, bash, python, python3, pwsh\)/);
});

test.run();
