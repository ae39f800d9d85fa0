// Builds the node selector shared by every command that acts on nodes, from names, -l, -g, --all.
import { Flags } from '@oclif/core';
import { SelectorError, validateSelector, type Selector } from '../../../proto/selector.js';
import { UsageError } from '../errors.js';

export interface SelectorFlags {
  all?: boolean;
  label?: string[];
  group?: string[];
}

/** The node-selecting flags, the same on every command that runs something on nodes. */
export const selectorFlags = {
  all: Flags.boolean({ description: 'Target every node.' }),
  label: Flags.string({ char: 'l', description: 'Label selector, e.g. env=prod,role!=db (repeatable; all must match).', multiple: true, multipleNonGreedy: true, helpValue: 'SELECTOR' }),
  group: Flags.string({ char: 'g', description: 'Target the nodes of a group (repeatable; any may match).', multiple: true, multipleNonGreedy: true, helpValue: 'GROUP' }),
};

/** Throws UsageError (exit 2) when the selector is empty or malformed. */
export function buildSelector(names: string[], flags: SelectorFlags): Selector {
  const selector: Selector = {};
  if (flags.all) selector.all = true;
  if (names.length > 0) selector.names = names;
  const labels = (flags.label ?? []).map((l) => l.trim()).filter((l) => l !== '');
  if ((flags.label ?? []).length > 0) selector.labels = labels.join(',');
  if ((flags.group ?? []).length > 0) selector.groups = flags.group;
  try {
    validateSelector(selector);
  } catch (err) {
    if (err instanceof SelectorError) throw new UsageError(err.message);
    throw err;
  }
  return selector;
}
