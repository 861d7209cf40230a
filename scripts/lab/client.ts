// The lab's client process, run inside the client namespace: the existing load generator
// (bench/load, `login` workload) on the reader users and the deleting clients on the others,
// all through HAProxy, plus a few logins through nginx; or the backend = local demonstration.
// Usage: node client.js SPEC.json (writes the ClientResult to spec.out).
import { readFileSync, writeFileSync } from 'node:fs';
import { LoadPool } from '../../bench/load/pool';
import { Pop3Client } from '../../test/helpers/pop3-client';
import type { ClientResult, ClientSpec } from './client-spec';
import { deleterLoop } from './deleters';

async function load(spec: ClientSpec): Promise<ClientResult> {
  const nginx = spec.nginx === undefined ? undefined : await throughNginx(spec.nginx, spec.password);
  const readers = runReaders(spec);
  const deleters = Promise.all(spec.deleters.map((user) => deleterLoop(spec, user)));
  return { readers: await readers, deleters: (await deleters).flat(), nginx, demo: undefined };
}

async function runReaders(spec: ClientSpec): Promise<ClientResult['readers']> {
  if (spec.readers.length === 0) return { sessions: 0, errors: 0, errorSamples: [], errorEvents: [], p50Ms: 0 };
  const pool = await LoadPool.start(spec.readerThreads);
  try {
    const clients = Array.from({ length: Math.min(spec.readerClients, spec.readers.length) }, (_, c) => spec.readers.filter((_u, i) => i % spec.readerClients === c));
    const result = await pool.run(
      {
        workload: 'login',
        target: { host: spec.balancer.host, port: spec.balancer.port, transport: 'plain' },
        password: spec.password,
        deadline: spec.deadline,
        maxSessionsPerClient: Number.MAX_SAFE_INTEGER,
        expectCount: spec.expectCount,
        expectSizes: spec.expectSizes,
        sessionTimeoutMs: 30_000,
      },
      clients,
    );
    const sorted = [...result.latencies].sort((a, b) => a - b);
    const p50Ms = Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 10) / 10;
    return { sessions: result.sessions, errors: result.errors, errorSamples: result.errorSamples, errorEvents: result.errorEvents, p50Ms };
  } finally {
    await pool.stop();
  }
}

async function throughNginx(nginx: NonNullable<ClientSpec['nginx']>, password: string): Promise<ClientResult['nginx']> {
  let ok = 0;
  const failed: string[] = [];
  for (const user of nginx.users) {
    try {
      const { client } = await Pop3Client.greeted(nginx.port, undefined, nginx.host);
      const login = await client.login(user, password);
      const stat = login.ok ? await client.cmd('STAT') : login;
      await client.cmd('QUIT');
      client.destroy();
      if (stat.ok) ok++;
      else failed.push(`${user}: ${stat.text}`);
    } catch (error) {
      failed.push(`${user}: ${String(error)}`);
    }
  }
  return { ok, failed };
}

/** Logs in on one backend = local host and, while that session lives, on another host. */
async function localDemo(spec: ClientSpec): Promise<ClientResult> {
  const demo = spec.demo;
  if (demo === undefined) throw new Error('local-demo needs spec.demo');
  const { client: first } = await Pop3Client.greeted(demo.first.port, undefined, demo.first.host);
  const one = await first.login(demo.user, spec.password);
  const { client: second } = await Pop3Client.greeted(demo.second.port, undefined, demo.second.host);
  const two = await second.login(demo.user, spec.password);
  for (const c of [second, first]) {
    await c.cmd('QUIT').catch(() => undefined);
    c.destroy();
  }
  const text = (r: { ok: boolean; text: string }): string => `${r.ok ? '+OK' : '-ERR'} ${r.text}`;
  return { readers: { sessions: 0, errors: 0, errorSamples: [], errorEvents: [], p50Ms: 0 }, deleters: [], nginx: undefined, demo: { first: text(one), second: text(two) } };
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: client.js SPEC.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as ClientSpec;
  const result = spec.mode === 'load' ? await load(spec) : await localDemo(spec);
  writeFileSync(spec.out, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`lab client: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
