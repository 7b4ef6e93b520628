/** What every view of the file manager gets from the page around it. */
import type { Me, NodeInfo } from './api.ts';
import type { UploadQueue } from './uploads.ts';

export interface Toast {
  error?: boolean;
  action?: { label: string; run: () => void | Promise<void> };
}

export interface AppContext {
  me: Me;
  node: NodeInfo;
  uploads: UploadQueue;
  toast(message: string, o?: Toast): void;
  /** Shows a route, e.g. "files/Photos" or "trash". */
  go(route: string): void;
  /** Renders the current route again (after a change). */
  reload(): void;
  refreshQuota(): void;
}
