/**
 * Modal dialogs on the native <dialog> element (focus kept inside, Escape closes, focus returns to
 * where it was), and the two shapes most actions need: a form that shows the server's error in place,
 * and a confirmation.
 */
import { ApiError } from './api.ts';
import { h, uid, type Child } from './dom.ts';
import { icon } from './icons.ts';

export interface OpenDialog {
  dialog: HTMLDialogElement;
  body: HTMLDivElement;
  close(): void;
  closed: Promise<void>;
}

export function openDialog(
  title: string,
  content: Child | Child[],
  o: { wide?: boolean; className?: string } = {},
): OpenDialog {
  const titleId = uid('dlg');
  const body = h('div', { class: 'dialog-body' }, content);
  const dialog = h(
    'dialog',
    {
      class: `dialog${o.wide ? ' wide' : ''}${o.className ? ` ${o.className}` : ''}`,
      'aria-labelledby': titleId,
    },
    h(
      'div',
      { class: 'dialog-inner' },
      h(
        'header',
        { class: 'dialog-head' },
        h('h2', { id: titleId }, title),
        h(
          'button',
          {
            type: 'button',
            class: 'icon-btn',
            'aria-label': 'Close',
            onclick: () => dialog.close(),
          },
          icon('close'),
        ),
      ),
      body,
    ),
  );
  // A click on the backdrop (the dialog element itself, outside its inner box) closes it.
  dialog.addEventListener('click', (e) => e.target === dialog && dialog.close());
  const closed = new Promise<void>((resolve) =>
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve();
    }),
  );
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, close: () => dialog.close(), closed };
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message.charAt(0).toUpperCase() + e.message.slice(1);
  return e instanceof Error ? e.message : String(e);
}

export const buttonRow = (...buttons: Child[]): HTMLDivElement =>
  h('div', { class: 'dialog-actions' }, buttons);

/**
 * A form in a dialog. `submit` runs on Enter or the confirm button; if it throws, the error is shown
 * in the dialog and it stays open. Resolves with submit's result, or undefined if cancelled.
 */
export function formDialog<T>(o: {
  title: string;
  fields: Child[];
  confirm: string;
  danger?: boolean;
  wide?: boolean;
  submit: (form: HTMLFormElement) => Promise<T> | T;
}): Promise<T | undefined> {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const ok = h(
    'button',
    { type: 'submit', class: `btn ${o.danger ? 'danger' : 'primary'}` },
    o.confirm,
  );
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    o.fields,
    error,
    buttonRow(
      h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel'),
      ok,
    ),
  );
  const d = openDialog(o.title, form, { wide: o.wide });
  let result: T | undefined;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    ok.disabled = true;
    try {
      result = await o.submit(form);
      d.close();
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      ok.disabled = false;
    }
  });
  const first = form.querySelector<HTMLElement>('input:not([type=hidden]), select, textarea');
  first?.focus();
  if (first instanceof HTMLInputElement && first.type === 'text') first.select();
  return d.closed.then(() => result);
}

export function confirmDialog(o: {
  title: string;
  message: Child | Child[];
  confirm: string;
  danger?: boolean;
}): Promise<boolean> {
  return formDialog({
    title: o.title,
    fields: [h('p', null, o.message)],
    confirm: o.confirm,
    danger: o.danger,
    submit: () => true,
  }).then((r) => r === true);
}
