// The engine's questions to its worker threads (status, sessions, kick), each answer matched
// to its question by id: a SIGUSR1 and two `r2d2 who` at once never take each other's answers;
// and the wait for a worker to apply a reload.
import type { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerAnswer, WorkerQuery } from './ipc';

/** A worker that has not answered by then is reported as such (it may be stuck in a long task). */
export const ANSWER_TIMEOUT_MS = 1000;

export type AnswerTo<Q extends WorkerQuery> = Extract<WorkerAnswer, { kind: Q['kind'] }>;

let nextId = 1;

/** Resolves with the worker's answer, or undefined when it is gone or did not answer in time. */
export function ask<Q extends WorkerQuery>(worker: Worker | undefined, query: Q, timeoutMs = ANSWER_TIMEOUT_MS): Promise<AnswerTo<Q> | undefined> {
  if (worker === undefined) return Promise.resolve(undefined);
  const id = nextId++;
  return new Promise((resolve) => {
    const done = (answer: AnswerTo<Q> | undefined): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve(answer);
    };
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'answer' && m.id === id && m.answer.kind === query.kind) done(m.answer as AnswerTo<Q>);
    };
    const onExit = (): void => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    worker.postMessage({ type: 'query', id, query } satisfies ToWorker);
  });
}

/** Resolves true when the worker says it applied a reload, false when it exits or takes longer than `timeoutMs`. */
export function whenReloaded(worker: Worker, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (applied: boolean): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve(applied);
    };
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'reloaded') done(true);
    };
    const onExit = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}
