import type { Accounts } from '../accounts/accounts';

/**
 * The accounts store new sessions get, and the stores a SIGHUP replaced: a replaced store is
 * closed when the last session that took it has ended -- however long its login takes, up to
 * login_timeout -- never while one may still ask it.
 */
export class AccountStores {
  private users = new Map<Accounts, number>();
  private readonly retired = new Set<Accounts>();

  constructor(private store: Accounts) {}

  /** The current store for a new session; `done` when that session has ended. */
  take(): { readonly accounts: Accounts; readonly done: () => void } {
    const accounts = this.store;
    this.users.set(accounts, (this.users.get(accounts) ?? 0) + 1);
    let given = true;
    return {
      accounts,
      done: () => {
        if (!given) return;
        given = false;
        const left = (this.users.get(accounts) ?? 1) - 1;
        this.users.set(accounts, left);
        if (left === 0 && this.retired.has(accounts)) this.close(accounts);
      },
    };
  }

  replace(next: Accounts): void {
    if (next === this.store) return;
    const old = this.store;
    this.store = next;
    if ((this.users.get(old) ?? 0) === 0) this.close(old);
    else this.retired.add(old);
  }

  /** Closes every store (shutdown, once the sessions are gone). */
  async closeAll(): Promise<void> {
    const all = [this.store, ...this.retired];
    this.retired.clear();
    await Promise.all(all.map((a) => a.close().catch(() => undefined)));
  }

  private close(store: Accounts): void {
    this.retired.delete(store);
    this.users.delete(store);
    void store.close().catch(() => undefined);
  }
}
