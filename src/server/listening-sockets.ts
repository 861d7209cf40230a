// The supervisor's listening sockets: bound by a binder child (binder.ts, with the supervisor's
// right to bind ports below 1024), held here without an event loop watching them, and handed to
// the engine as dups. At SIGHUP new listeners are bound and removed ones closed.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config, ListenerConfig } from '../config/types';
import type { BinderMessage } from './binder';
import { endpointLabel, type Endpoint } from './endpoints';
import type { FromSupervisor } from './ipc';
import { listenerKey } from './listener-set';
import { TlsContexts } from './tls-contexts';

/** A raw listening handle received from the binder (a TCP wrap). */
interface RawHandle {
  readonly fd: number;
  close?(): void;
}

interface Held {
  readonly handle: RawHandle;
  readonly port: number;
  /** listenerKey of the listener it was bound for. */
  readonly key: string;
}

export interface BindResult {
  readonly bound: ReadonlyMap<string, { readonly handle: RawHandle; readonly port: number }>;
  /** `listen "NAME": reason` for each that failed. */
  readonly failures: readonly string[];
}

/** Binds `listeners` in a binder child; each succeeds or fails on its own. */
export async function bindListeners(listeners: readonly Endpoint[], env: NodeJS.ProcessEnv): Promise<BindResult> {
  if (listeners.length === 0) return { bound: new Map(), failures: [] };
  const requests = listeners.map((l): Endpoint => ('path' in l ? l : { name: l.name, address: l.address, port: l.port }));
  const child = fork(join(__dirname, 'binder.js'), [JSON.stringify(requests)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  const bound = new Map<string, { handle: RawHandle; port: number }>();
  const failures: string[] = [];
  child.on('message', (message: BinderMessage, handle: unknown) => {
    if (message.type === 'failed') failures.push(`${endpointLabel(message.name)}: ${message.reason}`);
    else if (typeof handle === 'object' && handle !== null && typeof (handle as RawHandle).fd === 'number') {
      bound.set(message.name, { handle: handle as RawHandle, port: message.port });
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  for (const l of listeners) {
    if (!bound.has(l.name) && !failures.some((f) => f.startsWith(`${endpointLabel(l.name)}:`))) {
      failures.push(`${endpointLabel(l.name)}: binding failed (binder exit ${code})`);
    }
  }
  return { bound, failures };
}

export class ListeningSockets {
  private readonly held = new Map<string, Held>();
  /** Dups on their way to the engine, per handle: a handle is closed only once none is. */
  private readonly inFlight = new Map<RawHandle, number>();
  private readonly doomed = new Set<RawHandle>();
  /** Names of the fixed endpoints (auth_http, metrics): bound at start, never reconciled. */
  private readonly fixed = new Set<string>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  port(name: string): number | undefined {
    return this.held.get(name)?.port;
  }

  /** At start: every listener and fixed endpoint, or none (the failures, for the operator). */
  async bindAll(listeners: readonly ListenerConfig[], fixed: readonly Endpoint[] = []): Promise<readonly string[]> {
    const { bound, failures } = await bindListeners([...listeners, ...fixed], this.env);
    if (failures.length > 0) {
      for (const { handle } of bound.values()) handle.close?.();
      return failures;
    }
    for (const l of listeners) {
      const socket = bound.get(l.name);
      if (socket !== undefined) this.held.set(l.name, { ...socket, key: listenerKey(l) });
    }
    for (const e of fixed) {
      const socket = bound.get(e.name);
      if (socket !== undefined) this.held.set(e.name, { ...socket, key: JSON.stringify(e) });
    }
    for (const e of fixed) this.fixed.add(e.name);
    return [];
  }

  /**
   * SIGHUP: binds the listeners that are new or moved (their certificates checked first), closes
   * those gone (the engine's workers hold their own dups until they close them, so sessions are
   * not touched). A listener that cannot be bound is logged, and the one of that name before,
   * if any, stays. Returns the Config with the listeners r2d2 now has.
   */
  async reconcile(next: Config, before: Config, log: Logger): Promise<Config> {
    this.renamed(next, before, log);
    const wanted = next.listeners.filter((l) => this.held.get(l.name)?.key !== listenerKey(l));
    const bindable = wanted.filter((l) => {
      const problem = certificateProblem(l);
      if (problem !== undefined) log.error({ listener: l.name, reason: problem }, 'SIGHUP: listener not opened');
      return problem === undefined;
    });
    const { bound, failures } = await bindListeners(bindable, this.env);
    for (const failure of failures) log.error({ reason: failure }, 'SIGHUP: listener not opened');
    const listeners: ListenerConfig[] = [];
    for (const l of next.listeners) {
      const held = this.held.get(l.name);
      const fresh = bound.get(l.name);
      if (held?.key === listenerKey(l)) listeners.push(l);
      else if (fresh !== undefined) {
        if (held !== undefined) this.close(held.handle); // moved: the old address stops accepting
        this.held.set(l.name, { ...fresh, key: listenerKey(l) });
        log.info({ listener: l.name, tls: l.tls }, `listening on ${l.address}:${fresh.port}`);
        listeners.push(l);
      } else {
        const old = before.listeners.find((o) => o.name === l.name);
        if (held !== undefined && old !== undefined) listeners.push(old);
      }
    }
    for (const [name, held] of this.held) {
      if (this.fixed.has(name) || listeners.some((l) => l.name === name)) continue;
      this.held.delete(name);
      this.close(held.handle);
      log.info({ listener: name }, 'listener removed: no new connections; its sessions go on');
    }
    return { ...next, listeners };
  }

  /**
   * A listener renamed (a new name on the address and port of one going away) keeps its socket:
   * binding it afresh would fail, the port being in use by the old name.
   */
  private renamed(next: Config, before: Config, log: Logger): void {
    const names = new Set(next.listeners.map((l) => l.name));
    for (const l of next.listeners) {
      if (this.held.has(l.name) || this.fixed.has(l.name) || l.port === 0) continue;
      const old = before.listeners.find((o) => !names.has(o.name) && o.address === l.address && o.port === l.port);
      const held = old === undefined ? undefined : this.held.get(old.name);
      if (old === undefined || held === undefined) continue;
      this.held.delete(old.name);
      this.held.set(l.name, { ...held, key: listenerKey(l) });
      log.info({ listener: l.name, was: old.name }, `listener renamed: ${l.address}:${held.port} stays open`);
    }
  }

  /** Answers the engine's request for a dup of `name`'s socket (none when it was removed). */
  sendDup(engine: ChildProcess, name: string, id: number): void {
    if (!engine.connected) return;
    const held = this.held.get(name);
    if (held === undefined) {
      engine.send({ type: 'fd', listener: name, id } satisfies FromSupervisor);
      return;
    }
    const { handle } = held;
    this.inFlight.set(handle, (this.inFlight.get(handle) ?? 0) + 1);
    // The raw handle travels as a dup of the listening fd (SCM_RIGHTS).
    engine.send({ type: 'fd', listener: name, id } satisfies FromSupervisor, handle as never, () => this.landed(handle));
  }

  /** The engine exited: no dup is on its way any more. */
  engineGone(): void {
    this.inFlight.clear();
    for (const handle of this.doomed) handle.close?.();
    this.doomed.clear();
  }

  private landed(handle: RawHandle): void {
    const left = (this.inFlight.get(handle) ?? 1) - 1;
    if (left > 0) return void this.inFlight.set(handle, left);
    this.inFlight.delete(handle);
    if (this.doomed.delete(handle)) handle.close?.();
  }

  private close(handle: RawHandle): void {
    if (this.inFlight.has(handle)) this.doomed.add(handle);
    else handle.close?.();
  }
}

/** A new listener's certificates as the workers will load them; undefined when good. */
function certificateProblem(listener: ListenerConfig): string | undefined {
  if (listener.tlsConfig === undefined) return undefined;
  try {
    new TlsContexts(listener.tlsConfig);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
