// What each key does to the screen's state, as a pure reducer: keys typed faster than the screen
// redraws (a paste, a held arrow) each see the state the previous one left, not a stale render.
import { SORT_BY_KEY, SORT_KEYS, visibleRows, type Row, type Sort, type TopState } from './model.js';

export interface UiState {
  sort: Sort;
  filter: string;
  /** Typing a filter after `/`: letters go to the filter, not to the sort keys. */
  editing: boolean;
  /** The selected node by name, so it stays selected as rows move. */
  selected?: string;
  /** The node whose detail is open. */
  detail?: string;
  quit: boolean;
}

/** The keys Ink reports that matter here. */
export interface Keys {
  upArrow?: boolean; downArrow?: boolean; leftArrow?: boolean; rightArrow?: boolean; pageUp?: boolean; pageDown?: boolean;
  return?: boolean; escape?: boolean; backspace?: boolean; delete?: boolean; ctrl?: boolean; meta?: boolean;
}

/** The first sort: busiest CPU first, like top. */
export const initialUi = (): UiState => ({ sort: { key: 'cpu', reverse: false }, filter: '', editing: false, quit: false });

/** The selected row's name: the chosen one while it is shown, else the first. */
export function currentName(rows: Row[], ui: UiState): string | undefined {
  return rows.some((r) => r.name === ui.selected) ? ui.selected : rows[0]?.name;
}

function move(ui: UiState, rows: Row[], by: number): UiState {
  if (rows.length === 0) return ui;
  const index = Math.max(0, rows.findIndex((r) => r.name === currentName(rows, ui)));
  return { ...ui, selected: rows[Math.max(0, Math.min(rows.length - 1, index + by))].name };
}

export function reduceKey(ui: UiState, input: string, key: Keys, state: TopState, page: number): UiState {
  if (ui.detail !== undefined) {
    if (input === 'q') return { ...ui, quit: true };
    if (key.escape || key.backspace || key.delete) return { ...ui, detail: undefined };
    return ui;
  }
  const rows = () => visibleRows(state, ui.sort, ui.filter);
  if (ui.editing) {
    if (key.escape) return { ...ui, filter: '', editing: false };
    if (key.return) return { ...ui, editing: false };
    if (key.backspace || key.delete) return { ...ui, filter: ui.filter.slice(0, -1) };
    if (key.upArrow) return move(ui, rows(), -1);
    if (key.downArrow) return move(ui, rows(), 1);
    if (input && !key.ctrl && !key.meta && !/[\x00-\x1f\x7f]/.test(input)) return { ...ui, filter: ui.filter + input };
    return ui;
  }
  if (input === 'q') return { ...ui, quit: true };
  if (input === '/') return { ...ui, editing: true };
  if (key.escape) return { ...ui, filter: '' };
  if (key.return) {
    const name = currentName(rows(), ui);
    return name === undefined ? ui : { ...ui, selected: name, detail: name };
  }
  if (key.upArrow) return move(ui, rows(), -1);
  if (key.downArrow) return move(ui, rows(), 1);
  if (key.pageUp) return move(ui, rows(), -page);
  if (key.pageDown) return move(ui, rows(), page);
  if (key.leftArrow || key.rightArrow) {
    const i = SORT_KEYS.indexOf(ui.sort.key) + (key.leftArrow ? -1 : 1);
    return { ...ui, sort: { key: SORT_KEYS[(i + SORT_KEYS.length) % SORT_KEYS.length], reverse: false } };
  }
  const sortKey = SORT_BY_KEY[input];
  if (sortKey) return { ...ui, sort: { key: sortKey, reverse: ui.sort.key === sortKey ? !ui.sort.reverse : false } };
  return ui;
}
