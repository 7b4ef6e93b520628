/**
 * The file manager page: signs in with a browser wallet, then shows the views registered in
 * lib/extensions.ts (Files, Shared links, Trash, Settings, and what other parts add) by the URL's hash.
 */
import { registerApps } from './lib/apps.ts';
import { api, ApiError, type Me, type NodeInfo, type Quota } from './lib/api.ts';
import type { AppContext, Toast } from './lib/context.ts';
import { errorText } from './lib/dialogs.ts';
import { fill, h } from './lib/dom.ts';
import { navItems, registerNavItem, registerView, viewFor } from './lib/extensions.ts';
import { renderFiles } from './lib/files-view.ts';
import { formatBytes, shortAddress } from './lib/format.ts';
import { icon } from './lib/icons.ts';
import { renderSettings } from './lib/settings-view.ts';
import { renderShares } from './lib/shares-view.ts';
import { card, renderSignIn } from './lib/sign-in.ts';
import { renderTrash } from './lib/trash-view.ts';
import { UploadQueue } from './lib/uploads.ts';
import { emptyState, progressBar } from './lib/parts.ts';

registerView({
  route: 'files',
  title: 'Files',
  render: (main, app, rest) => renderFiles(main, app, rest),
});
registerView({
  route: 'shares',
  title: 'Shared links',
  render: (main, app) => renderShares(main, app),
});
registerView({ route: 'trash', title: 'Trash', render: (main, app) => renderTrash(main, app) });
registerView({
  route: 'settings',
  title: 'Settings',
  render: (main, app) => renderSettings(main, app),
});
registerNavItem({ id: 'files', label: 'Files', icon: 'folder', href: '#/files/' });
registerNavItem({ id: 'shares', label: 'Shared links', icon: 'link', href: '#/shares' });
registerNavItem({ id: 'trash', label: 'Trash', icon: 'trash', href: '#/trash' });
registerApps();
registerNavItem({ id: 'settings', label: 'Settings', icon: 'settings', href: '#/settings' });

const root = document.getElementById('app')!;

function parseHash(): { route: string; rest: string } {
  const raw = location.hash.replace(/^#\/?/, '');
  const slash = raw.indexOf('/');
  const route = (slash < 0 ? raw : raw.slice(0, slash)) || 'files';
  let rest = slash < 0 ? '' : raw.slice(slash);
  try {
    rest = rest.split('/').map(decodeURIComponent).join('/');
  } catch {
    rest = '/';
  }
  return { route, rest };
}

function toaster(): { el: HTMLElement; show(message: string, o?: Toast): void } {
  const el = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    show(message, o = {}) {
      const t = h('div', { class: `toast${o.error ? ' error' : ''}` }, h('span', null, message));
      const close = (): void => t.remove();
      if (o.action) {
        const { label, run } = o.action;
        t.append(
          h(
            'button',
            {
              type: 'button',
              class: 'btn small ghost',
              onclick: async () => {
                close();
                try {
                  await run();
                } catch (e) {
                  this.show(errorText(e), { error: true });
                }
              },
            },
            label,
          ),
        );
      }
      t.append(
        h(
          'button',
          { type: 'button', class: 'icon-btn small', 'aria-label': 'Dismiss', onclick: close },
          icon('close'),
        ),
      );
      // A few at a time: the newest pushes the oldest out.
      while (el.children.length >= 3) el.firstElementChild!.remove();
      el.append(t);
      setTimeout(close, o.error ? 10_000 : 6_000);
    },
  };
}

function startApp(node: NodeInfo, me: Me): void {
  const main = h('main', { id: 'main', class: 'main', tabindex: -1 });
  const quota = progressBar('Storage used');
  const quotaText = h('p', { class: 'quota-text' });
  const showQuota = (q: Quota): void => {
    const pct = q.quota > 0 ? Math.min(100, Math.round((q.used / q.quota) * 100)) : 0;
    // Something stored shows as a sliver, not as an empty bar.
    quota.set(q.used > 0 ? Math.max(pct, 1) : pct);
    quota.bar.classList.toggle('warn', pct >= 90);
    quotaText.textContent = `${formatBytes(q.used)} of ${formatBytes(q.quota)} used`;
    me.quota = q;
  };
  const toasts = toaster();
  const nav = h('ul', { class: 'nav-list' });
  const sidebar = h(
    'nav',
    { class: 'sidebar', id: 'sidebar', 'aria-label': 'Sections' },
    nav,
    h('div', { class: 'quota' }, h('p', { class: 'quota-label' }, 'Storage'), quota.bar, quotaText),
  );
  const menu = h(
    'button',
    {
      type: 'button',
      class: 'icon-btn menu-btn',
      'aria-label': 'Sections',
      'aria-controls': 'sidebar',
      'aria-expanded': 'false',
    },
    icon('menu'),
  );
  // At phone width the sections are a drawer: the button opens it; a choice, a tap elsewhere or Escape closes it.
  const closeDrawer = (): void => {
    sidebar.classList.remove('open');
    menu.setAttribute('aria-expanded', 'false');
  };
  menu.addEventListener('click', () =>
    menu.setAttribute('aria-expanded', String(sidebar.classList.toggle('open'))),
  );
  // Listeners on the document and window live as long as this signed-in session.
  const session = new AbortController();
  const { signal } = session;
  document.addEventListener(
    'pointerdown',
    (e) => {
      if (
        sidebar.classList.contains('open') &&
        !sidebar.contains(e.target as Node) &&
        !menu.contains(e.target as Node)
      )
        closeDrawer();
    },
    { signal },
  );
  document.addEventListener(
    'keydown',
    (e) => {
      if (e.key === 'Escape' && sidebar.classList.contains('open')) {
        closeDrawer();
        menu.focus();
      }
    },
    { signal },
  );
  const signOut = h(
    'button',
    { type: 'button', class: 'btn ghost' },
    icon('signOut'),
    h('span', { class: 'label' }, 'Sign out'),
  );
  let pendingReload: ReturnType<typeof setTimeout> | undefined;
  const uploads = new UploadQueue((path) => {
    // Several finishing at once refresh the view once.
    clearTimeout(pendingReload);
    pendingReload = setTimeout(() => {
      const { route, rest } = parseHash();
      if (
        route === 'files' &&
        path.startsWith(('/' + rest.split('/').filter(Boolean).join('/')).replace(/\/$/, '') + '/')
      )
        app.reload();
      app.refreshQuota();
    }, 150);
  });

  const app: AppContext = {
    me,
    node,
    uploads,
    toast: (m, o) => toasts.show(m, o),
    go: (route) => {
      location.hash = '#/' + route;
    },
    reload: () => void render(),
    refreshQuota: () => void api<Quota>('GET', '/api/quota').then(showQuota, () => undefined),
  };

  const drawNav = (route: string): void => {
    fill(
      nav,
      navItems()
        .filter((n) => !n.ownerOnly || me.role === 'owner')
        .map((n) => {
          const current = n.href.startsWith('#/') && n.href.slice(2).split('/')[0] === route;
          return h(
            'li',
            null,
            h(
              'a',
              { href: n.href, 'aria-current': current ? 'page' : null, onclick: closeDrawer },
              icon(n.icon),
              n.label,
            ),
          );
        }),
    );
  };

  let renders = 0;
  const render = async (): Promise<void> => {
    const { route, rest } = parseHash();
    const view = viewFor(route) ?? viewFor('files')!;
    const ticket = ++renders;
    drawNav(view.route);
    document.title = `${view.title} · ${node.signIn.domain}`;
    try {
      await view.render(main, app, view.route === route ? rest : '/');
    } catch (e) {
      if (ticket !== renders) return;
      if (e instanceof ApiError && e.status === 401) {
        session.abort();
        void boot('Your session has ended. Sign in again.');
        return;
      }
      fill(main, emptyState('alert', 'Something went wrong', h('p', null, errorText(e))));
    }
  };

  signOut.addEventListener('click', async () => {
    if (uploads.busy() && !confirm('Uploads are still running. Sign out anyway?')) return;
    await api('POST', '/api/auth/signout').catch(() => undefined);
    session.abort();
    void boot();
  });
  window.addEventListener('hashchange', () => void render(), { signal });
  window.addEventListener(
    'beforeunload',
    (e) => {
      if (uploads.busy()) e.preventDefault();
    },
    { signal },
  );

  fill(
    root,
    h(
      'a',
      {
        class: 'skip',
        href: '#main',
        onclick: (e: Event) => {
          e.preventDefault();
          main.focus();
        },
      },
      'Skip to content',
    ),
    h(
      'div',
      { class: 'shell' },
      h(
        'header',
        { class: 'topbar' },
        menu,
        h(
          'a',
          { class: 'brand', href: '#/files/' },
          icon('cloud', 'icon brand-mark'),
          h('span', null, 'PC2'),
          h('span', { class: 'host' }, node.signIn.domain),
        ),
        h(
          'div',
          { class: 'account' },
          h('span', { class: 'address mono', title: me.address }, shortAddress(me.address)),
          h('span', { class: 'badge' }, me.role === 'owner' ? 'Owner' : 'Member'),
          signOut,
        ),
      ),
      sidebar,
      main,
    ),
    uploads.panel,
    toasts.el,
  );
  showQuota(me.quota);
  if (!location.hash) history.replaceState(null, '', '#/files/');
  void render();
}

async function boot(notice?: string): Promise<void> {
  try {
    const node = await api<NodeInfo>('GET', '/api/node');
    try {
      startApp(node, await api<Me>('GET', '/api/me'));
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      renderSignIn(root, node, (me) => startApp(node, me), notice);
    }
  } catch (e) {
    const retry = h(
      'button',
      { type: 'button', class: 'btn primary', onclick: () => location.reload() },
      'Try again',
    );
    fill(
      root,
      card(h('h1', null, 'This node cannot be reached'), h('p', null, errorText(e)), retry),
    );
  }
}

void boot();
