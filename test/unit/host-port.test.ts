// lib/host-port.ts: HOST:PORT and [IPv6]:PORT, refusals that name the option, and the rules for
// addresses to listen on (port 0, empty host).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../lib/config.js';
import { formatHostPort, hostOnly, parseHostPort } from '../../lib/host-port.js';

test('accepts host:port, IPv4:port and [IPv6]:port', () => {
  assert.equal(parseHostPort('h:1', 'x'), { host: 'h', port: 1 });
  assert.equal(parseHostPort('[::1]:8441', 'x'), { host: '::1', port: 8441 });
  assert.equal(parseHostPort('[2001:db8::7]:65535', 'x'), { host: '2001:db8::7', port: 65535 });
  assert.equal(parseHostPort('10.0.0.1:80', 'x'), { host: '10.0.0.1', port: 80 });
  assert.equal(parseHostPort(' manager.example.com:8441 ', 'x'), { host: 'manager.example.com', port: 8441 });
});

test('refuses a missing or out-of-range port, a bare IPv6 address, and junk; the error names the option', () => {
  const bad = ['h', 'h:', 'h:0', 'h:99999', 'h:65536', 'h:-1', 'h:80x', '::1:80', '::1', '[::1]', '[]:80', '[h]:80', '[1.2.3.4]:80', ':80', 'a b:80', '', 'h:1:2'];
  for (const value of bad) {
    assert.throws(() => parseHostPort(value, 'manager.address'), (err: Error) =>
      err instanceof ConfigError && err.message.startsWith('manager.address must be HOST:PORT') && err.message.includes(`got "${value}"`), value);
  }
  assert.throws(() => parseHostPort('h:99999', 'agent.listen'), /port from 1 to 65535/);
});

test('listen rules: port 0 (any free port) and an empty host (all interfaces) on request', () => {
  assert.equal(parseHostPort('h:0', 'x', { anyPort: true }), { host: 'h', port: 0 });
  assert.throws(() => parseHostPort('h:0', 'x', { anyPort: false }), /port from 1 to 65535/);
  assert.throws(() => parseHostPort('h:99999', 'x', { anyPort: true }), /port from 0 to 65535/);
  assert.equal(parseHostPort(':8442', 'x', { emptyHost: '0.0.0.0' }), { host: '0.0.0.0', port: 8442 });
  assert.throws(() => parseHostPort('[]:8442', 'x', { emptyHost: '0.0.0.0' }), /HOST:PORT/, 'empty brackets are not an empty host');
});

test('formatHostPort puts IPv6 brackets back, so it round-trips', () => {
  for (const value of ['h:1', '[::1]:8441', '10.0.0.1:80', '[fe80::1]:9']) assert.is(formatHostPort(parseHostPort(value, 'x')), value);
});

test('hostOnly: the host of an address with or without a port', () => {
  assert.is(hostOnly('m.example:8441'), 'm.example');
  assert.is(hostOnly('[::1]:8441'), '::1');
  assert.is(hostOnly('[::1]'), '::1');
  assert.is(hostOnly('::1'), '::1');
  assert.is(hostOnly('10.0.0.1'), '10.0.0.1');
  assert.is(hostOnly(''), '');
});

test.run();
