/** What the store reports after each committed change of a wallet's files (e.g. for a search index). */
export type ChangeKind = 'write' | 'mkdir' | 'delete' | 'move' | 'copy' | 'restore' | 'purge';

export interface ChangeEvent {
  wallet: string;
  kind: ChangeKind;
  /** The path changed (for move and copy, the destination). */
  path: string;
  /** The source path of a move or copy. */
  from?: string;
  /** The node id of the file or folder (stable across moves). */
  nodeId: number;
  dir: boolean;
}
