/**
 * A pop-up menu of actions (role=menu): opened from a button, arrow keys and Home/End move, Enter
 * runs, Escape or a click elsewhere closes, and focus goes back to the button.
 */
import { h } from './dom.ts';
import { icon, type IconName } from './icons.ts';

export interface MenuItem {
  label: string;
  icon: IconName;
  run: () => void | Promise<void>;
  danger?: boolean;
}

let current: (() => void) | undefined;

export function openMenu(anchor: HTMLElement, items: (MenuItem | 'separator')[]): void {
  current?.();
  const buttons: HTMLButtonElement[] = [];
  const menu = h('div', {
    class: 'menu',
    role: 'menu',
    'aria-label': anchor.getAttribute('aria-label') ?? 'Actions',
  });
  for (const item of items) {
    if (item === 'separator') {
      menu.append(h('div', { class: 'menu-sep', role: 'separator' }));
      continue;
    }
    const b = h(
      'button',
      { type: 'button', role: 'menuitem', tabindex: -1, class: item.danger ? 'danger' : null },
      icon(item.icon),
      item.label,
    );
    b.addEventListener('click', () => {
      close();
      void item.run();
    });
    buttons.push(b);
    menu.append(b);
  }
  const close = (refocus = true): void => {
    if (current !== closeMenu) return;
    current = undefined;
    menu.remove();
    anchor.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    window.removeEventListener('resize', closeMenu);
    if (refocus) anchor.focus();
  };
  const closeMenu = (): void => close(false);
  const outside = (e: Event): void => {
    if (
      !menu.contains(e.target as Node) &&
      e.target !== anchor &&
      !anchor.contains(e.target as Node)
    )
      close(false);
  };
  menu.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const go = (n: number): void => buttons[(n + buttons.length) % buttons.length]?.focus();
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(buttons.length - 1);
    else if (e.key === 'Escape' || e.key === 'Tab') close(e.key === 'Escape');
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
  current = closeMenu;
  anchor.setAttribute('aria-expanded', 'true');
  // Inside an open modal dialog the menu must be in the dialog to be clickable (top layer).
  (anchor.closest('dialog[open]') ?? document.body).append(menu);
  const r = anchor.getBoundingClientRect();
  const m = menu.getBoundingClientRect();
  const top =
    r.bottom + 4 + m.height > window.innerHeight ? Math.max(4, r.top - 4 - m.height) : r.bottom + 4;
  const left = Math.min(Math.max(4, r.right - m.width), window.innerWidth - m.width - 4);
  menu.style.top = `${top}px`;
  menu.style.left = `${left}px`;
  document.addEventListener('pointerdown', outside, true);
  window.addEventListener('resize', closeMenu);
  buttons[0]?.focus();
}

/** A "⋯" button that opens a menu built when clicked. */
export function menuButton(
  label: string,
  items: () => (MenuItem | 'separator')[],
  cls = 'icon-btn',
): HTMLButtonElement {
  const b = h(
    'button',
    {
      type: 'button',
      class: cls,
      'aria-label': label,
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      title: label,
    },
    icon('more', 'icon dots'),
  );
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    if (b.getAttribute('aria-expanded') === 'true') current?.();
    else openMenu(b, items());
  });
  return b;
}
