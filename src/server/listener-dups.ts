// Dups of the listening sockets, asked of the supervisor over IPC (Node cannot dup a descriptor
// in-process). The engine hands each worker thread its own.
import type { FromSupervisor, ToSupervisor } from './ipc';

/** A raw TCP handle from the supervisor. Kept referenced for the life of the process and never
 *  closed here: its fd belongs to the worker that listens on it (closing it twice would close
 *  an unrelated file that reused the number). */
interface RawHandle {
  readonly fd: number;
}

export class ListenerDups {
  private readonly retained: RawHandle[] = [];
  private readonly pending = new Map<number, (fd: number | undefined) => void>();
  private nextId = 1;

  /** A dup of a listening socket; undefined when the supervisor has none by that name (removed). */
  ask(listener: string): Promise<number | undefined> {
    const send = process.send?.bind(process);
    if (send === undefined) return Promise.reject(new Error('the engine must run under the supervisor (IPC)'));
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      send({ type: 'dup', listener, id } satisfies ToSupervisor);
    });
  }

  /** A dup the supervisor sent for one of our requests. */
  receive(message: Extract<FromSupervisor, { type: 'fd' }>, handle: unknown): void {
    const resolve = this.pending.get(message.id);
    this.pending.delete(message.id);
    if (!isRawHandle(handle)) return resolve?.(undefined);
    this.retained.push(handle);
    resolve?.(handle.fd);
  }
}

function isRawHandle(value: unknown): value is RawHandle {
  return typeof value === 'object' && value !== null && typeof (value as { fd?: unknown }).fd === 'number';
}
