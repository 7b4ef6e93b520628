/**
 * The node's other pages, reached from the file manager through its extension points: the WASM Run
 * panel (`/apps/run`) from a .wasm file's menu and the chat page (`/chat`) from the sidebar (see
 * docs/cloud.md, "How the file manager hooks Run and Chat"). Both use the same session cookie.
 */
import { parentOf } from './api.ts';
import { h } from './dom.ts';
import { registerFileAction, registerNavItem } from './extensions.ts';
import { kindOf } from './kinds.ts';

function openTab(url: string): void {
  const a = h('a', { href: url, target: '_blank', rel: 'noopener', hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}

export function registerApps(): void {
  registerFileAction({
    id: 'run',
    label: 'Run',
    icon: 'play',
    appliesTo: (e) => kindOf(e) === 'wasm',
    // The module sees its own folder as / (read-only unless the panel is told otherwise).
    run: (e) =>
      openTab(
        `/apps/run?module=${encodeURIComponent(e.path)}&dir=${encodeURIComponent(parentOf(e.path))}`,
      ),
  });
  registerNavItem({ id: 'chat', label: 'Chat', icon: 'chat', href: '/chat' });
}
