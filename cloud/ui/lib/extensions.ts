/**
 * Where the rest of the personal cloud plugs into the file manager, and where the built-in parts
 * plug in too: views (a route and what it draws), sidebar items, and actions on files. Issue 17
 * registers its own here: a "Run" action for .wasm files (`appliesTo: (e) => kindOf(e) === 'wasm'`)
 * and a "Chat" sidebar item with its view or page.
 */
import type { Entry } from './api.ts';
import type { AppContext } from './context.ts';
import type { IconName } from './icons.ts';

export interface FileAction {
  id: string;
  label: string;
  icon: IconName;
  appliesTo(entry: Entry): boolean;
  run(entry: Entry, app: AppContext): void | Promise<void>;
}

export interface NavItem {
  id: string;
  label: string;
  icon: IconName;
  /** A route of this page ("#/trash") or another page of the node ("/chat"). */
  href: string;
  /** Shown to the owner only. */
  ownerOnly?: boolean;
}

export interface View {
  /** The first segment of the route: "files" for "#/files/Photos". */
  route: string;
  title: string;
  /** Draws the view into `main`; `rest` is the decoded remainder of the route. */
  render(main: HTMLElement, app: AppContext, rest: string): void | Promise<void>;
}

const actions: FileAction[] = [];
const nav: NavItem[] = [];
const views = new Map<string, View>();

export function registerFileAction(action: FileAction): void {
  if (actions.some((a) => a.id === action.id))
    throw new Error(`file action "${action.id}" is already registered`);
  actions.push(action);
}

export const fileActionsFor = (entry: Entry): FileAction[] =>
  actions.filter((a) => a.appliesTo(entry));

export function registerNavItem(item: NavItem): void {
  if (nav.some((n) => n.id === item.id))
    throw new Error(`sidebar item "${item.id}" is already registered`);
  nav.push(item);
}

export const navItems = (): readonly NavItem[] => nav;

export function registerView(view: View): void {
  if (views.has(view.route)) throw new Error(`view "${view.route}" is already registered`);
  views.set(view.route, view);
}

export const viewFor = (route: string): View | undefined => views.get(route);
