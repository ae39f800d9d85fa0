// The Prometheus text format: label names made legal and prefixed, values escaped, families with
// HELP/TYPE, empty families left out; and the address allow list behind GET /metrics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AllowList } from '../../lib/cidr.js';
import { escapeLabelValue, nodeLabelName, renderExposition } from '../../server/modules/prometheus/exposition.js';

test('node label names become legal Prometheus names, prefixed label_', () => {
  assert.is(nodeLabelName('env'), 'label_env');
  assert.is(nodeLabelName('app.kubernetes.io/name'), 'label_app_kubernetes_io_name');
  assert.is(nodeLabelName('9lives'), 'label_9lives');
  assert.is(nodeLabelName('tier-ä'), 'label_tier__');
  assert.match(nodeLabelName('any thing:x'), /^[a-zA-Z_][a-zA-Z0-9_]*$/);
});

test('label values escape backslash, double quote and newline', () => {
  assert.is(escapeLabelValue('plain'), 'plain');
  assert.is(escapeLabelValue('a\\b'), 'a\\\\b');
  assert.is(escapeLabelValue('say "hi"'), 'say \\"hi\\"');
  assert.is(escapeLabelValue('two\nlines'), 'two\\nlines');
});

test('families render HELP, TYPE and one line per sample; empty families are left out', () => {
  const text = renderExposition([
    { name: 'opsctl_node_cpu_percent', help: 'CPU\nbusy', type: 'gauge', samples: [
      { labels: { node: 'web-1', label_env: 'pr"od' }, value: 12.5 },
      { labels: { node: 'web-2' }, value: NaN },
    ] },
    { name: 'opsctl_unused', help: 'none', type: 'gauge', samples: [] },
    { name: 'process_cpu_seconds_total', help: 'cpu', type: 'counter', samples: [{ labels: {}, value: Infinity }] },
  ]);
  assert.is(text, [
    '# HELP opsctl_node_cpu_percent CPU\\nbusy',
    '# TYPE opsctl_node_cpu_percent gauge',
    'opsctl_node_cpu_percent{node="web-1",label_env="pr\\"od"} 12.5',
    'opsctl_node_cpu_percent{node="web-2"} NaN',
    '# HELP process_cpu_seconds_total cpu',
    '# TYPE process_cpu_seconds_total counter',
    'process_cpu_seconds_total +Inf',
    '',
  ].join('\n'));
  assert.is(renderExposition([]), '');
});

test('allow lists take addresses and CIDRs of both families; IPv4-mapped peers count as IPv4', () => {
  const list = AllowList.parse(['10.0.0.0/8', '192.168.1.7', '::1/128'], 'x');
  assert.ok(list.allows('10.20.30.40'));
  assert.ok(list.allows('::ffff:10.1.1.1'));
  assert.ok(list.allows('192.168.1.7'));
  assert.not.ok(list.allows('192.168.1.8'));
  assert.ok(list.allows('::1'));
  assert.not.ok(list.allows('127.0.0.1'));
  assert.not.ok(list.allows('not-an-ip'));
});

test('a bad allow-list entry is refused, naming the option and the entry', () => {
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'example.com', '::1/129', '1.2.3.4/8/1', '1.2.3.4/x', '']) {
    assert.throws(() => AllowList.parse([bad], 'metrics.scrapeAllow'),
      (e: Error) => e.message.startsWith('metrics.scrapeAllow: ') && e.message.includes(`"${bad}"`), bad);
  }
});

test.run();
