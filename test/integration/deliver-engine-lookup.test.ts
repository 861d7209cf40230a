// `r2d2 deliver --recipient` asks the running engine (control socket, command `recipient`) for the
// maildir instead of loading mysql2 and connecting per message; with no engine answering it looks
// the recipient up itself. Through the real CLI, a spawned server and MariaDB.
import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../helpers/run';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail, tempDir } from '../helpers/test-resources';
import { RECIPIENT_QUERY } from '../helpers/lmtp-server';

const R2D2 = join(__dirname, '../../../bin/r2d2');
// Without tap's loaders, as an MTA's pipe(8) runs it.
const { NODE_OPTIONS: _ignored, ...ENV } = process.env;
const MESSAGE = 'Subject: through the engine\n\nhello\n';

const newFiles = (maildir: string): string[] => readdirSync(join(maildir, 'new'));

t.test('deliver --recipient asks the running engine, and looks up itself when none answers', async (t) => {
  const { db, mail } = await databaseAndMail(t);
  const socket = join(tempDir(t, 'r2d2-run-'), 'control');
  const deliverSection = `deliver { recipient_query_format_string = "${RECIPIENT_QUERY}"  recipient_delimiter = "+" }`;
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, `control_socket = "${socket}"\nlog { level = debug }\n${deliverSection}`));
  const carol = join(mail.path, 'carol');
  await db.addUser('carol@example.com', 'pw', carol);
  const deliver = (personality: string, recipient: string) => run(R2D2, ['deliver', '-p', personality, '--recipient', recipient], { env: ENV, input: MESSAGE });

  await t.test('found by the engine: delivered by the CLI, as it would itself', async (t) => {
    const r = await deliver(server.dir, 'carol+news@example.com');
    t.equal(r.code, 0, r.stderr.toString());
    await server.waitFor(/recipient found for r2d2 deliver recipient="carol\+news@example.com" matched="carol@example.com"/);
    const files = newFiles(carol);
    t.equal(files.length, 1);
    t.equal(readFileSync(join(carol, 'new', files[0] as string), 'utf8'), MESSAGE);
  });

  await t.test('refused by the engine: the same exit status as the CLI’s own lookup (67 unknown user)', async (t) => {
    const r = await deliver(server.dir, 'nobody@example.com');
    t.equal(r.code, 67);
    t.match(r.stderr.toString(), /unknown recipient: nobody@example.com/);
    await server.waitFor(/recipient refused for r2d2 deliver recipient="nobody@example.com" exitCode="67"/);
  });

  await t.test('no engine on the control socket: the CLI looks the recipient up itself', async (t) => {
    const elsewhere = mkdtempSync(join(mail.path, '.personality-'));
    const c11n = readFileSync(join(server.dir, 'c11n'), 'utf8').replace(socket, join(elsewhere, 'no-engine-here'));
    writeFileSync(join(elsewhere, 'c11n'), c11n);
    for (const name of readdirSync(server.dir)) if (name !== 'c11n' && name.endsWith('.pem')) copyFileSync(join(server.dir, name), join(elsewhere, name));
    const asked = server.count(/recipient found for r2d2 deliver/);
    const r = await deliver(elsewhere, 'carol@example.com');
    t.equal(r.code, 0, r.stderr.toString());
    t.equal(newFiles(carol).length, 2);
    t.equal(server.count(/recipient found for r2d2 deliver/), asked, 'the engine was not asked');
  });
});
