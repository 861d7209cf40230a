// After a main-password login with a hash weaker than passwords.rehash_to: the new hash is
// written in the background by rehash_query_format_string. The login never waits for it; a
// failed or skipped update is logged and the old hash keeps working.
import type { Logger } from 'pino';
import type { LoginRequest } from '../accounts';
import { bindParams, compileQuery, type CompiledQuery } from '../query-format';
import { hashPassword } from './generate';
import type { SchemeName } from '../../config/password-schemes';
import type { StoredHash } from './stored-hash';
import { needsRehash } from './verify';

/** Runs the UPDATE; answers how many rows it changed. */
export type RunUpdate = (sql: string, params: readonly string[]) => Promise<number>;

export class Rehasher {
  private readonly query: CompiledQuery;
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly target: SchemeName,
    rehashQuery: string,
    private readonly run: RunUpdate,
    private readonly log: () => Logger,
  ) {
    this.query = compileQuery(rehashQuery);
  }

  /** Starts the rewrite when the matched hash is weaker than the target; returns at once. */
  consider(stored: StoredHash, oldValue: string, request: LoginRequest, account: string): void {
    if (!needsRehash(stored, this.target) || this.running.has(account)) return;
    const work = this.rehash(oldValue, request, account, stored.scheme).finally(() => this.running.delete(account));
    this.running.set(account, work);
  }

  /** Waits for the rewrites under way (before the store's connections close). */
  async settle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  private async rehash(oldValue: string, request: LoginRequest, account: string, from: SchemeName): Promise<void> {
    try {
      const newHash = await hashPassword({ scheme: this.target, encoding: undefined }, request.password);
      const changed = await this.run(this.query.sql, bindParams(this.query, request, { newHash, oldValue }));
      if (changed > 0) this.log().info({ user: account, from, to: this.target }, 'password rehashed');
      else this.log().info({ user: account, from, to: this.target }, 'password rehash changed no row (password changed meanwhile?)');
    } catch (error) {
      // The message only: a driver's error object may carry the statement's parameters (the hashes).
      this.log().warn({ user: account, from, to: this.target, error: error instanceof Error ? error.message : String(error) }, 'password rehash failed');
    }
  }
}
