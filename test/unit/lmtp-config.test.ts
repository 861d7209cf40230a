// The lmtp section: defaults, what it needs (the deliver section, a socket or a port) and its
// errors at the offending line and column.
import t from 'tap';
import { parseConfigText } from '../../src/config/load';
import { failure } from '../helpers/c11n';

const BASE = `maildrop_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u"
listen "pop3" { port = 110 }
database "accounts" { database = "mail" }
`;
const DELIVER = 'deliver { recipient_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u" }\n';

const load = (text: string) => parseConfigText(BASE + text, '/etc/r2d2', {}, 2);

t.test('defaults', async (t) => {
  t.equal(load(DELIVER).lmtp, undefined, 'no section: no listener');
  t.same(load(DELIVER + 'lmtp { socket = /run/r2d2/lmtp }').lmtp, {
    socket: { path: '/run/r2d2/lmtp', user: undefined, group: undefined, mode: 0o660 },
    inet: undefined,
    maxMessageSize: 100 * 1024 * 1024,
    maxRecipients: 1000,
    deliveredTo: true,
    returnPath: true,
    idleTimeoutMs: 300_000,
  });
  const tcp = load(DELIVER + 'lmtp { port = 24  max_message_size = 0 }').lmtp;
  t.same(tcp?.inet, { address: '127.0.0.1', port: 24 }, 'TCP binds loopback by default');
  t.equal(tcp?.maxMessageSize, undefined, '0: no SIZE limit');
  t.equal(load(DELIVER + 'lmtp { port = 24  max_message_size = 50M }').lmtp?.maxMessageSize, 50 * 1024 * 1024);
  t.equal(load(DELIVER + 'lmtp { socket = /run/r2d2/lmtp  socket_mode = 0666  socket_group = postfix }').lmtp?.socket?.mode, 0o666);
});

t.test('errors', async (t) => {
  t.match(failure(() => load('lmtp { port = 24 }')), /^c11n:4:1: the lmtp section needs deliver \{ recipient_query_format_string/);
  t.match(failure(() => load(DELIVER + 'lmtp { delivered_to = no }')), /^c11n:5:1: the lmtp section needs a socket \(a path\), a port, or both/);
  t.match(failure(() => load(DELIVER + 'lmtp { socket = run/lmtp }')), /^c11n:5:17: "socket" must be an absolute path/);
  t.match(failure(() => load(DELIVER + 'lmtp { socket = /run/lmtp  socket_mode = 0999 }')), /^c11n:5:42: "socket_mode" must be an octal mode/);
  t.match(failure(() => load(DELIVER + 'lmtp { port = 24  max_message_size = 10X }')), /"max_message_size" must be a size in octets/);
  t.match(failure(() => load(DELIVER + 'lmtp { port = 24  socket_group = postfix }')), /^c11n:5:34: socket_user, socket_group and socket_mode are for the socket/);
  t.match(failure(() => parseConfigText(BASE.replace('listen "pop3"', 'listen "lmtp"') + DELIVER + 'lmtp { port = 24 }', '/etc/r2d2', {}, 2)), /listen "lmtp": that title is taken by the lmtp section/);
});
