/**
 * The share dialog: a new link (view and download, or upload only for folders; optional password
 * and expiry), shown once with a copy button, and the item's live links with revoke. The node keeps
 * only a hash of each token, so an old link cannot be shown again, only revoked.
 */
import { api, type Entry } from './api.ts';
import type { AppContext } from './context.ts';
import { buttonRow, errorText, openDialog } from './dialogs.ts';
import { field, fill, h, uid } from './dom.ts';
import { formatDate, formatDateTime } from './format.ts';
import { icon } from './icons.ts';

export interface ShareInfo {
  id: string;
  path: string | null;
  dir: boolean;
  mode: 'read' | 'upload';
  hasPassword: boolean;
  expiresAt: number | null;
  created: number;
}

const DAY = 86_400_000;

export const modeLabel = (mode: string): string =>
  mode === 'upload' ? 'Upload only' : 'View and download';

export function shareSummary(s: ShareInfo): string {
  return [
    modeLabel(s.mode),
    s.hasPassword ? 'password' : null,
    s.expiresAt ? `expires ${formatDate(s.expiresAt)}` : 'no expiry',
  ]
    .filter(Boolean)
    .join(' · ');
}

export async function copyText(text: string, input?: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (or not a secure context): select it for the user to copy.
    input?.select();
    return false;
  }
}

function radio(
  name: string,
  value: string,
  label: string,
  checked: boolean,
  disabled = false,
): HTMLLabelElement {
  return h(
    'label',
    { class: 'choice' },
    h('input', { type: 'radio', name, value, checked, disabled }),
    label,
  );
}

export function openShareDialog(entry: Entry, app: AppContext): void {
  const modeName = uid('mode');
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'new-password',
    placeholder: 'No password',
  });
  const expiry = h(
    'select',
    { name: 'expiry' },
    h('option', { value: '' }, 'Never'),
    h('option', { value: '1' }, 'In 1 day'),
    h('option', { value: '7' }, 'In 7 days'),
    h('option', { value: '30' }, 'In 30 days'),
  );
  const error = h('p', { class: 'form-error', role: 'alert' });
  const result = h('div', { class: 'share-result', hidden: true });
  const create = h('button', { type: 'submit', class: 'btn primary' }, icon('link'), 'Create link');
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    h(
      'fieldset',
      { class: 'choices' },
      h('legend', null, 'People with the link can'),
      radio(
        modeName,
        'read',
        entry.dir ? 'View and download its files' : 'View and download it',
        true,
      ),
      radio(
        modeName,
        'upload',
        entry.dir ? 'Upload files into it (and see nothing)' : 'Upload only (folders)',
        false,
        !entry.dir,
      ),
    ),
    h(
      'div',
      { class: 'row' },
      field('Password (optional)', password),
      field('Link expires', expiry),
    ),
    error,
    buttonRow(create),
  );
  const existing = h('ul', { class: 'share-list', 'aria-label': 'Active links' });
  const d = openDialog(`Share “${entry.name}”`, [
    form,
    result,
    h('h3', null, 'Active links'),
    existing,
  ]);

  const loadExisting = async (): Promise<void> => {
    try {
      const { shares } = await api<{ shares: ShareInfo[] }>('GET', '/api/shares');
      const mine = shares.filter((s) => s.path === entry.path);
      fill(
        existing,
        mine.length === 0
          ? h('li', { class: 'muted' }, 'No active links.')
          : mine.map((s) =>
              h(
                'li',
                { class: 'share-item' },
                h(
                  'span',
                  null,
                  h('strong', null, shareSummary(s)),
                  h('span', { class: 'muted' }, ` · created ${formatDateTime(s.created)}`),
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn small danger',
                    onclick: async () => {
                      try {
                        await api('DELETE', `/api/shares/${s.id}`);
                        app.toast('Link revoked: it no longer opens');
                        await loadExisting();
                      } catch (e) {
                        error.textContent = errorText(e);
                      }
                    },
                  },
                  'Revoke',
                ),
              ),
            ),
      );
    } catch (e) {
      error.textContent = errorText(e);
    }
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const mode = (form.querySelector(`input[name="${modeName}"]:checked`) as HTMLInputElement)
      .value;
    const days = Number(expiry.value);
    create.disabled = true;
    try {
      const created = await api<{ url: string }>('POST', '/api/shares', {
        path: entry.path,
        mode,
        password: password.value || undefined,
        expiresAt: days ? Date.now() + days * DAY : undefined,
      });
      const link = h('input', {
        type: 'text',
        readonly: true,
        value: created.url,
        'aria-label': 'Share link',
        class: 'mono',
      });
      const copy = h('button', { type: 'button', class: 'btn primary' }, icon('copy'), 'Copy link');
      copy.addEventListener('click', async () => {
        const ok = await copyText(created.url, link);
        app.toast(ok ? 'Link copied' : 'Select the link and copy it');
      });
      fill(
        result,
        h(
          'p',
          { class: 'success' },
          icon('check'),
          'Link created. Copy it now: it is shown only once.',
        ),
        h('div', { class: 'copy-row' }, link, copy),
      );
      result.hidden = false;
      password.value = '';
      link.focus();
      link.select();
      await loadExisting();
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      create.disabled = false;
    }
  });
  void loadExisting();
  void d.closed;
}
