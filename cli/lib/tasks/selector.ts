// Builds the node selector shared by every command that acts on nodes, from names, -l, -g, --all.
import { SelectorError, validateSelector, type Selector } from '../../../proto/selector.js';
import { UsageError } from '../errors.js';

export interface SelectorFlags {
  all?: boolean;
  label?: string[];
  group?: string[];
}

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
