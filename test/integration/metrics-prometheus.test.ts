// The metrics endpoint under a real Prometheus (Debian's, private, scraping every second): a
// spawned r2d2 with two worker threads serves logins, RETRs, DELEs, failed logins, a locked
// maildrop, a per-address refusal and TLS; Prometheus' API then answers with exactly those
// counts, summed over both threads, and keeps them when a worker dies and is replaced. The
// output passes `promtool check metrics`, OpenMetrics comes by Accept, no user name or address
// appears in it, and every panel of personality/grafana/r2d2.json returns series.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { LineSocket } from '../helpers/line-socket';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { PrometheusInstance } from '../helpers/prometheus';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { spawnedTlsParts } from '../helpers/tls-fixture';

const PASSWORD = 'metrics-secret-5b1c';
const USERS = Array.from({ length: 6 }, (_, i) => `metrics-user-${i}@example.test`);
const STRANGER = 'metrics-nobody@example.test';
const DASHBOARD = join(__dirname, '../../../personality/grafana/r2d2.json');

/** Connections held at once: the per-address limit. 23 plain ones, opened a few at a time so the
 *  kernel hands some to each worker thread, and one TLS. */
const HELD = 24;
const BATCH = 4;

const plain = (user: string, password: string): string => `AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`;

t.test('Prometheus scrapes r2d2: the series match what the clients did, across both worker threads', async (t) => {
  const { db, mail, certs } = await spawnedTlsParts(t);
  for (const user of USERS) {
    const md = mail.maildir(user);
    putMessage(md, sampleMessage(1));
    putMessage(md, sampleMessage(2));
    await db.addUser(user, PASSWORD, md);
  }
  const extra = `
listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  certificate = "${certs.cert}"  private_key = "${certs.key}" }
metrics { port = 0 }
limits { auth_failure_delay_ms = 1  auth_penalty_max_ms = 4  max_connections_per_address = ${HELD} }`;
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, extra, 2));
  const metricsPort = Number((await server.waitFor(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/))[1]);
  const started = PrometheusInstance.start(t, `127.0.0.1:${metricsPort}`);
  const port = server.port();
  let received = 0;
  const counted = (socket: { on(event: 'data', listener: (d: Buffer) => void): unknown }): void => void socket.on('data', (d) => (received += d.length));

  // Plaintext on the implicit-TLS port: a failed handshake (and a connection accepted).
  const stray = connect({ host: '127.0.0.1', port: server.port('pop3s') });
  stray.on('error', () => undefined);
  stray.write('USER someone\r\n');
  await new Promise((resolve) => stray.once('close', resolve));

  // Up to the per-address limit, a few at a time: each burst may go to either worker thread.
  const greeted = async (): Promise<Pop3Client> => {
    const client = await Pop3Client.open(port);
    counted(client.socket);
    await client.readStatus();
    return client;
  };
  const clients: Pop3Client[] = [];
  t.teardown(() => clients.forEach((c) => c.destroy()));
  while (clients.length < HELD - 1) clients.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, HELD - 1 - clients.length) }, greeted))));
  const secure = await LineSocket.connect(server.port('pop3s'), { ca: readFileSync(certs.ca) });
  t.teardown(() => secure.destroy());
  counted(secure.socket);
  await secure.readLine();
  const refused = await Pop3Client.open(port);
  t.teardown(() => refused.destroy());
  t.match((await refused.readStatus()).text, /too many connections/, `connection ${HELD + 1} from one address is refused`);

  const [a, b, c, d, e, f, locked, w1, w2, w3, w4] = clients;
  const wrong = [w1, w2, w3, w4].filter((w) => w !== undefined);
  if (a === undefined || b === undefined || c === undefined || d === undefined || e === undefined || f === undefined || locked === undefined) throw new Error('clients');
  const users = [a, b, c, d, e, f];
  const logins = await Promise.all(users.map((client, i) => (i < 3 ? client.login(USERS[i] ?? '', PASSWORD) : client.cmd(plain(USERS[i] ?? '', PASSWORD)))));
  t.ok(logins.every((r) => r.ok), 'six logins, three by USER/PASS and three by AUTH PLAIN');
  t.match((await locked.login(USERS[0] ?? '', PASSWORD)).text, /IN-USE/, 'a seventh finds a maildrop locked');
  const failures = await Promise.all(wrong.map((client, i) => (i < 2 ? client.login(i === 0 ? STRANGER : USERS[1] ?? '', 'wrong') : client.cmd(plain(i === 2 ? STRANGER : USERS[2] ?? '', 'wrong')))));
  t.ok(failures.every((r) => !r.ok), 'four failed logins, two by each mechanism');
  for (const client of users) {
    t.ok((await client.cmd('RETR 1')).ok && (await client.cmd('RETR 2')).ok && (await client.cmd('DELE 1')).ok);
  }
  await Promise.all([...clients.map((client) => client.cmd('QUIT')), (async () => secure.send('QUIT\r\n'))()]);
  await Promise.all([...clients.map((client) => client.waitClosed()), secure.waitClosed()]);
  for (const worker of ['0', '1']) t.ok(server.count(new RegExp(`connected .*worker="${worker}"`)) > 0, `worker ${worker} served sessions`);

  const prometheus = await started;
  await prometheus.waitForValue('sum(r2d2_sessions_ended_total)', HELD);
  const by = async (expr: string): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const s of await prometheus.settledQuery(expr)) out[Object.values(s.metric).join('/')] = s.value;
    return out;
  };
  t.equal(await prometheus.settledValue('up{job="r2d2"}', 1), 1, 'Prometheus scrapes the endpoint');
  // Read as OpenMetrics (Prometheus' first choice), a counter's family is named without _total.
  t.equal((await prometheus.metadata('r2d2_logins'))[0]?.type, 'counter', 'Prometheus negotiated and read OpenMetrics');
  t.same(await by('sum by (result, mechanism) (r2d2_logins_total) > 0'), { 'user/ok': 3, 'plain/ok': 3, 'user/bad_credentials': 2, 'plain/bad_credentials': 2, 'user/locked': 1 });
  const expected: Array<[string, number]> = [
    ['sum(r2d2_logins_total)', 11],
    ['sum(r2d2_login_penalties_total)', 4],
    ['sum(r2d2_maildrop_lock_refusals_total)', 1],
    ['sum(r2d2_messages_retrieved_total{command="retr"})', 12],
    ['sum(r2d2_messages_deleted_total)', 6],
    ['sum(r2d2_sessions_started_total{listener="pop3"})', HELD - 1],
    ['sum(r2d2_sessions_started_total{listener="pop3s"})', 1],
    ['sum(r2d2_sessions_ended_total{reason="peer_quit"})', HELD],
    ['sum(r2d2_sessions_active)', 0],
    ['sum(r2d2_connections_accepted_total)', HELD + 2],
    ['sum(r2d2_connections_refused_total{limit="max_connections_per_address"})', 1],
    ['sum(r2d2_tls_handshakes_total{listener="pop3s", version="TLSv1.3"})', 1],
    ['sum(r2d2_tls_handshake_failures_total{listener="pop3s", reason="not_tls"})', 1],
    ['sum(r2d2_bytes_sent_total)', received],
    ['sum(r2d2_login_seconds_count)', 11],
    ['sum(r2d2_login_stage_seconds_count{stage="query"})', 11],
    ['sum(r2d2_login_stage_seconds_count{stage="lock"})', 7],
    ['sum(r2d2_login_stage_seconds_count{stage="scan"})', 6],
    ['sum(r2d2_login_stage_seconds_count{stage="hash"})', 0],
    ['sum(r2d2_db_query_errors_total)', 0],
    ['sum(r2d2_db_pool_size)', 4],
    ['sum(r2d2_db_pool_connections_in_use)', 0],
    ['sum(r2d2_log_lines_lost_total)', 0],
    ['r2d2_worker_threads', 2],
    ['sum(r2d2_worker_restarts_total)', 0],
    ['count(r2d2_event_loop_lag_seconds)', 3],
  ];
  for (const [expr, value] of expected) t.equal(await prometheus.settledValue(expr, value), value, expr);

  await t.test('a worker that dies keeps its counts in the sums', async (t) => {
    writeFileSync(join(server.dir, 'kill-slot'), '0');
    server.child.kill('SIGUSR2');
    await prometheus.waitForValue('sum(r2d2_worker_restarts_total)', 1);
    await prometheus.waitForValue('r2d2_worker_threads', 2);
    for (const [expr, value] of expected.filter(([e]) => /_total|_count/.test(e) && !e.includes('restarts'))) t.equal(await prometheus.settledValue(expr, value), value, expr);
    t.equal(await prometheus.settledValue('sum(resets(r2d2_logins_total[1m]))', 0), 0, 'no counter went down');
  });

  await t.test('the text format passes promtool; OpenMetrics by Accept; no user name or address', async (t) => {
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const text = await fetch(url);
    t.match(text.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const body = await text.text();
    const open = await fetch(url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    t.match(open.headers.get('content-type'), /^application\/openmetrics-text; version=1\.0\.0/);
    const openBody = await open.text();
    t.match(openBody, /\n# EOF\n$/, 'OpenMetrics ends with # EOF');
    t.match(openBody, /^# TYPE r2d2_logins counter$/m, 'a counter family without _total');
    t.match(openBody, /^r2d2_logins_total\{/m, 'its samples with _total');
    t.notMatch(openBody, /_total_total/);
    t.equal(execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' }).trim(), '', 'promtool check metrics: no problem');
    for (const output of [body, openBody]) {
      for (const secret of [...USERS, STRANGER, PASSWORD, '127.0.0.1', mail.path]) t.notOk(output.includes(secret), `no ${secret} in the output`);
    }
    t.equal((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status, 404);
  });

  await t.test('every panel of the Grafana dashboard returns series', async (t) => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    t.ok(panels.length >= 10, `${panels.length} panels`);
    for (const panel of panels) {
      t.ok((panel.targets ?? []).length > 0, `"${panel.title}" has a query`);
      for (const target of panel.targets ?? []) {
        const expr = target.expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m').replace(/\$\{?(?:instance|job)\}?/g, '.+');
        t.ok((await prometheus.settledQuery(expr)).length > 0, `"${panel.title}": ${target.expr}`);
      }
    }
  });
});

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
  readonly panels?: Panel[];
}
