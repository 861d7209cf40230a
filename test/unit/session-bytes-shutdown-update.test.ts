// A shutdown or a kick that arrives while QUIT's UPDATE is deleting files (found by the lab: a
// client was told "-ERR server shutting down" while its deletions went on, so a message it
// thought kept was gone). The command in flight finishes and is answered; only then does the
// notice come, and never after a QUIT that has done its UPDATE.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { POOLED_IO } from '../../src/maildrop/io-policy';
import { ByteSessions } from '../helpers/byte-session';
import { putMessage } from '../helpers/maildir';

const CRLF = '\r\n';

for (const how of ['shutdown', 'kick'] as const) {
  t.test(`a ${how} during QUIT's UPDATE: the deletions and their +OK go together`, async (t) => {
    const s = new ByteSessions(t);
    const md = s.addUser('ivy', 'pw');
    for (let i = 0; i < 20; i++) putMessage(md, `Subject: m${i}\n\nbody ${i}\n`);
    // Every file call through the thread pool: UPDATE awaits, so the notice can come meanwhile.
    const c = s.open({ io: POOLED_IO });
    await c.exchange('USER ivy\r\nPASS pw\r\n', /octets\)\r\n$/);
    let dele = '';
    for (let i = 1; i <= 20; i++) dele += `DELE ${i}\r\n`;
    await c.exchange(dele, /message 20 deleted\r\n$/);
    c.send('QUIT\r\n');
    if (how === 'shutdown') c.runner.shutdown();
    else c.runner.kick();
    await c.ended;
    const out = c.wire.take();
    // QUIT was being handled (its UPDATE awaiting the thread pool) when the notice came.
    t.equal(readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length, 0, 'the deletions were applied');
    t.match(out, /^\+OK /, 'and QUIT answered +OK');
    t.notMatch(out, /-ERR/, 'with no -ERR after it');
    t.ok(out.endsWith(CRLF));
  });
}
