/** Building blocks the views share: tables, empty states, progress bars, buttons that report errors. */
import type { AppContext } from './context.ts';
import { errorText } from './dialogs.ts';
import { type Child, h, srOnly } from './dom.ts';
import { type IconName, icon } from './icons.ts';

export interface Column {
  label: string;
  class?: string;
  /** Read by screen readers only (an actions column). */
  hidden?: boolean;
}

export function dataTable(columns: (string | Column)[], rows: Child[]): HTMLTableElement {
  const head = columns.map((c) => {
    const col = typeof c === 'string' ? { label: c } : c;
    return h('th', { scope: 'col', class: col.class }, col.hidden ? srOnly(col.label) : col.label);
  });
  return h(
    'table',
    { class: 'table' },
    h('thead', null, h('tr', null, head)),
    h('tbody', null, rows),
  );
}

export const emptyState = (name: IconName, title: string, ...more: Child[]): HTMLDivElement =>
  h('div', { class: 'empty' }, icon(name, 'icon huge'), h('h2', null, title), more);

export interface ProgressBar {
  bar: HTMLDivElement;
  set(pct: number): void;
}

export function progressBar(label: string): ProgressBar {
  const fill = h('div', { class: 'bar-fill' });
  const bar = h(
    'div',
    {
      class: 'bar',
      role: 'progressbar',
      'aria-label': label,
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': 0,
    },
    fill,
  );
  return {
    bar,
    set(pct) {
      bar.setAttribute('aria-valuenow', String(pct));
      fill.style.width = `${pct}%`;
    },
  };
}

/** A button whose action talks to the node; a failure becomes an error notification. */
export function actionButton(
  app: AppContext,
  label: string,
  run: () => Promise<void>,
  o: { aria?: string; danger?: boolean; icon?: IconName; size?: 'small' | 'normal' } = {},
): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: `btn${o.size === 'normal' ? '' : ' small'}${o.danger ? ' danger' : ''}`,
      'aria-label': o.aria,
      onclick: async () => {
        try {
          await run();
        } catch (e) {
          app.toast(errorText(e), { error: true });
        }
      },
    },
    o.icon ? icon(o.icon) : null,
    label,
  );
}
