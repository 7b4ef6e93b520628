/** Chat conversations per wallet, kept in the cloud's database (so backups carry them). */
import { randomBytes } from 'node:crypto';
import { CloudError } from '../errors.ts';
import type { Clock } from '../options.ts';
import type { Db } from '../storage/db.ts';
import type { ChatMessage } from './types.ts';

export interface Conversation {
  id: string;
  title: string;
  created: number;
  updated: number;
}

export interface StoredMessage extends ChatMessage {
  id: number;
  created: number;
  /** The reply was cut short by the user's stop. */
  stopped: boolean;
}

const MAX_PER_WALLET = 10_000;

export class Conversations {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  list(wallet: string): Conversation[] {
    return this.db.all<Conversation>(
      'SELECT id, title, created, updated FROM chat_conversations WHERE wallet = ? ORDER BY updated DESC LIMIT 1000',
      wallet,
    );
  }

  create(wallet: string, title: string): Conversation {
    const n = this.db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM chat_conversations WHERE wallet = ?',
      wallet,
    )!.n;
    if (n >= MAX_PER_WALLET)
      throw new CloudError(
        'CONFLICT',
        `at most ${MAX_PER_WALLET} conversations: delete some first`,
      );
    const now = this.clock.now();
    const c = { id: randomBytes(8).toString('hex'), title, created: now, updated: now };
    this.db.run(
      'INSERT INTO chat_conversations (id, wallet, title, created, updated) VALUES (?, ?, ?, ?, ?)',
      c.id,
      wallet,
      c.title,
      c.created,
      c.updated,
    );
    return c;
  }

  get(wallet: string, id: string): Conversation {
    const c = this.db.get<Conversation>(
      'SELECT id, title, created, updated FROM chat_conversations WHERE id = ? AND wallet = ?',
      id,
      wallet,
    );
    if (!c) throw new CloudError('NOT_FOUND', 'no such conversation');
    return c;
  }

  messages(conversationId: string): StoredMessage[] {
    return this.db
      .all<{
        id: number;
        role: ChatMessage['role'];
        content: string;
        created: number;
        stopped: number;
      }>(
        'SELECT id, role, content, created, stopped FROM chat_messages WHERE conversation_id = ? ORDER BY id',
        conversationId,
      )
      .map((m) => ({ ...m, stopped: m.stopped === 1 }));
  }

  add(conversationId: string, m: ChatMessage, stopped = false): StoredMessage {
    const now = this.clock.now();
    const id = this.db.tx(() => {
      this.db.run('UPDATE chat_conversations SET updated = ? WHERE id = ?', now, conversationId);
      return this.db.run(
        'INSERT INTO chat_messages (conversation_id, role, content, created, stopped) VALUES (?, ?, ?, ?, ?)',
        conversationId,
        m.role,
        m.content,
        now,
        stopped ? 1 : 0,
      );
    });
    return { ...m, id, created: now, stopped };
  }

  rename(wallet: string, id: string, title: string): void {
    this.get(wallet, id);
    this.db.run('UPDATE chat_conversations SET title = ? WHERE id = ?', title, id);
  }

  remove(wallet: string, id: string): void {
    this.get(wallet, id);
    this.db.tx(() => {
      this.db.run('DELETE FROM chat_messages WHERE conversation_id = ?', id);
      this.db.run('DELETE FROM chat_conversations WHERE id = ?', id);
    });
  }
}
