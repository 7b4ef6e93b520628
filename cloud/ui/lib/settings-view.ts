/** Settings: the account, app passwords (WebDAV, scripts) and, for the owner, the node's members. */
import { api } from './api.ts';
import type { AppContext } from './context.ts';
import { buttonRow, confirmDialog, errorText, formDialog, openDialog } from './dialogs.ts';
import { field, fill, h } from './dom.ts';
import { formatBytes, formatDateTime } from './format.ts';
import { icon } from './icons.ts';
import { actionButton, dataTable } from './parts.ts';
import { copyText } from './share-dialog.ts';

interface AppPassword {
  id: string;
  label: string;
  created: number;
  lastUsed: number | null;
}

interface Member {
  address: string;
  role: 'owner' | 'member';
  addedAt: number;
  quotaBytes: number | null;
  usedBytes: number;
}

const GIB = 2 ** 30;
const ACTIONS = { label: 'Actions', hidden: true };

function copyRow(label: string, value: string, app: AppContext): HTMLDivElement {
  const input = h('input', {
    type: 'text',
    readonly: true,
    value,
    class: 'mono',
    'aria-label': label,
  });
  const copy = async (): Promise<void> =>
    app.toast((await copyText(value, input)) ? `${label} copied` : 'Select it and copy it');
  return h(
    'div',
    { class: 'field' },
    h('span', { class: 'field-label' }, label),
    h(
      'div',
      { class: 'copy-row' },
      input,
      h(
        'button',
        { type: 'button', class: 'btn', 'aria-label': `Copy ${label}`, onclick: copy },
        icon('copy'),
      ),
    ),
  );
}

async function appPasswords(section: HTMLElement, app: AppContext): Promise<void> {
  const list = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const dav = `${app.node.origin}/dav/`;
  const create = h(
    'button',
    { type: 'button', class: 'btn primary' },
    icon('key'),
    'New app password',
  );
  fill(
    section,
    h('h2', { id: 'ap-title' }, 'App passwords'),
    h(
      'p',
      { class: 'hint' },
      'For WebDAV (Finder, Windows, rclone, davfs2) and scripts, which cannot use a wallet. Each is shown once; revoke it when a device is gone.',
    ),
    h(
      'div',
      { class: 'row' },
      copyRow('WebDAV address', dav, app),
      copyRow('User name', app.me.address, app),
    ),
    create,
    list,
  );

  const load = async (): Promise<void> => {
    const { appPasswords: rows } = await api<{ appPasswords: AppPassword[] }>(
      'GET',
      '/api/app-passwords',
    );
    if (rows.length === 0) return fill(list, h('p', { class: 'muted' }, 'No app passwords yet.'));
    fill(
      list,
      dataTable(
        ['Label', { label: 'Created', class: 'hide-narrow' }, 'Last used', ACTIONS],
        rows.map((p) => {
          const revoke = actionButton(
            app,
            'Revoke',
            async () => {
              const message = `Devices using “${p.label}” are signed out at their next request.`;
              if (
                !(await confirmDialog({
                  title: 'Revoke this app password?',
                  message,
                  confirm: 'Revoke',
                  danger: true,
                }))
              )
                return;
              await api('DELETE', `/api/app-passwords/${p.id}`);
              app.toast('App password revoked');
              await load();
            },
            { aria: `Revoke ${p.label}`, danger: true },
          );
          return h(
            'tr',
            null,
            h('td', null, p.label),
            h('td', { class: 'hide-narrow' }, formatDateTime(p.created)),
            h('td', null, p.lastUsed ? formatDateTime(p.lastUsed) : 'Never'),
            h('td', { class: 'actions' }, revoke),
          );
        }),
      ),
    );
  };
  create.addEventListener('click', async () => {
    const label = h('input', {
      type: 'text',
      name: 'label',
      placeholder: 'e.g. Laptop rclone',
      maxlength: 100,
      autocomplete: 'off',
    });
    const made = await formDialog({
      title: 'New app password',
      fields: [field('Label', label, 'Where it will be used, to recognise it later.')],
      confirm: 'Create',
      submit: async () => {
        if (!label.value.trim()) throw new Error('A label is required.');
        return api<{ password: string; user: string }>('POST', '/api/app-passwords', {
          label: label.value.trim(),
        });
      },
    });
    if (!made) return;
    const d = openDialog('Your new app password', [
      h('p', { class: 'success' }, icon('check'), 'Copy it now: it is not shown again.'),
      copyRow('App password', made.password, app),
      copyRow('User name', made.user, app),
      copyRow('WebDAV address', dav, app),
      buttonRow(
        h('button', { type: 'button', class: 'btn primary', onclick: () => d.close() }, 'Done'),
      ),
    ]);
    await load();
  });
  await load();
}

async function members(section: HTMLElement, app: AppContext): Promise<void> {
  const list = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const address = h('input', {
    type: 'text',
    name: 'address',
    placeholder: '0x…',
    autocomplete: 'off',
    spellcheck: 'false',
    class: 'mono',
  });
  const quota = h('input', {
    type: 'number',
    name: 'quota',
    min: 0,
    step: 'any',
    placeholder: 'Default',
    inputmode: 'decimal',
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true },
    field('Wallet address', address),
    field('Quota (GiB)', quota),
    h('button', { type: 'submit', class: 'btn primary' }, 'Add member'),
  );
  fill(
    section,
    h('h2', null, 'Members'),
    h(
      'p',
      { class: 'hint' },
      'People who may sign in to this node with their wallet. Each has a space of their own that nobody else can open, the owner included.',
    ),
    form,
    error,
    list,
  );

  const editQuota = async (m: Member): Promise<void> => {
    const value = m.quotaBytes === null ? '' : String(m.quotaBytes / GIB);
    const input = h('input', {
      type: 'number',
      min: 0,
      step: 'any',
      value,
      placeholder: 'Default',
    });
    const done = await formDialog({
      title: 'Storage quota',
      fields: [field('Quota in GiB (empty: the node’s default)', input)],
      confirm: 'Save',
      submit: async () => {
        const v = input.value.trim();
        await api('PATCH', `/api/members/${m.address}`, {
          quotaBytes: v === '' ? null : Math.round(Number(v) * GIB),
        });
        return true;
      },
    });
    if (done) await load();
  };
  const load = async (): Promise<void> => {
    const { members: rows } = await api<{ members: Member[] }>('GET', '/api/members');
    fill(
      list,
      dataTable(
        ['Wallet', 'Role', { label: 'Storage', class: 'hide-narrow' }, ACTIONS],
        rows.map((m) => {
          const storage =
            m.quotaBytes === null
              ? `${formatBytes(m.usedBytes)} of the default quota`
              : `${formatBytes(m.usedBytes)} of ${formatBytes(m.quotaBytes)}`;
          const remove = actionButton(
            app,
            'Remove',
            async () => {
              const message = `${m.address} can no longer sign in; their sessions, app passwords and links end. Their files stay on the node.`;
              if (
                !(await confirmDialog({
                  title: 'Remove this member?',
                  message,
                  confirm: 'Remove',
                  danger: true,
                }))
              )
                return;
              await api('DELETE', `/api/members/${m.address}`);
              app.toast('Member removed');
              await load();
            },
            { aria: `Remove ${m.address}`, danger: true },
          );
          const setQuota = h(
            'button',
            {
              type: 'button',
              class: 'btn small',
              'aria-label': `Set the quota of ${m.address}`,
              onclick: () => editQuota(m),
            },
            'Quota',
          );
          return h(
            'tr',
            null,
            h('td', { class: 'mono wrap' }, m.address),
            h('td', null, m.role === 'owner' ? 'Owner' : 'Member'),
            h('td', { class: 'hide-narrow' }, storage),
            h('td', { class: 'actions' }, m.role === 'owner' ? null : [setQuota, remove]),
          );
        }),
      ),
    );
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      const q = quota.value.trim();
      await api('POST', '/api/members', {
        address: address.value.trim(),
        quotaBytes: q === '' ? undefined : Math.round(Number(q) * GIB),
      });
      app.toast('Member added: they can sign in with their wallet now');
      address.value = '';
      quota.value = '';
      await load();
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  await load();
}

export async function renderSettings(main: HTMLElement, app: AppContext): Promise<void> {
  const { me } = app;
  const account = h(
    'section',
    { class: 'card-section', 'aria-labelledby': 'acct-title' },
    h('h2', { id: 'acct-title' }, 'Account'),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Wallet'),
      h('dd', { class: 'mono wrap' }, me.address),
      h('dt', null, 'Role'),
      h('dd', null, me.role === 'owner' ? 'Owner of this node' : 'Member'),
      h('dt', null, 'Storage'),
      h('dd', null, `${formatBytes(me.quota.used)} of ${formatBytes(me.quota.quota)} used`),
    ),
  );
  const passwords = h('section', { class: 'card-section', 'aria-labelledby': 'ap-title' });
  const people =
    me.role === 'owner' ? h('section', { class: 'card-section', 'aria-label': 'Members' }) : null;
  fill(
    main,
    h(
      'div',
      { class: 'page' },
      h('div', { class: 'toolbar' }, h('h1', null, 'Settings')),
      account,
      passwords,
      people,
    ),
  );
  await Promise.all([appPasswords(passwords, app), people ? members(people, app) : undefined]);
}
