// What the supervisor hands the engine: the certificates' and keys' text and one set of
// session ticket keys, from session_ticket_key_file or made once and kept.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { TlsMaterial } from '../../src/server/tls-material';
import { makeCertificates } from '../helpers/certificates';

const certs = makeCertificates();
t.teardown(() => certs.remove());

function config(extra = ''): Config {
  const files = `certificate = "${certs.cert}"  private_key = "${certs.key}"`;
  const text = `${extra}
maildrop_query_format_string = "SELECT maildir FROM m WHERE u = %u"
database "accounts" { }
listen "plain" { port = 110 }
listen "pop3s" { port = 995  tls = implicit  ${files}  sni "other.test" { certificate = "${certs.otherCert}"  private_key = "${certs.otherKey}" } }`;
  return parseConfigText(text, certs.dir, {}, 1, (name) => readFileSync(name, 'utf8'));
}

const tlsOf = (c: Config) => c.listeners[1]?.tlsConfig;

t.test('contents of every certificate and key; the plain listener untouched', async (t) => {
  const c = config();
  const attached = new TlsMaterial().attach(c);
  t.equal(attached.listeners[0], c.listeners[0], 'a listener without TLS is passed on as it is');
  t.equal(tlsOf(attached)?.contents?.privateKey, readFileSync(certs.key, 'latin1'));
  t.equal(tlsOf(attached)?.contents?.certificate, readFileSync(certs.cert, 'latin1'));
  t.equal(tlsOf(attached)?.sni[0]?.contents?.privateKey, readFileSync(certs.otherKey, 'latin1'));
  t.equal(tlsOf(attached)?.certificate, certs.cert, 'the paths stay, for messages');
});

t.test('without a key file: random keys, made once and kept by every attach (SIGHUP)', async (t) => {
  const material = new TlsMaterial();
  const first = tlsOf(material.attach(config()))?.sessionTicketKeys;
  t.equal(Buffer.from(first ?? '', 'base64').length, 48);
  t.equal(tlsOf(material.attach(config()))?.sessionTicketKeys, first);
  t.not(tlsOf(new TlsMaterial().attach(config()))?.sessionTicketKeys, first, 'another server process: other keys');
});

t.test('session_ticket_key_file: raw or base64, resolved against the personality', async (t) => {
  const keys = randomBytes(48);
  writeFileSync(join(certs.dir, 'tickets.key'), keys);
  const c = config('session_ticket_key_file = tickets.key');
  t.equal(c.sessionTicketKeyFile, join(certs.dir, 'tickets.key'));
  t.equal(tlsOf(new TlsMaterial().attach(c))?.sessionTicketKeys, keys.toString('base64'));
  writeFileSync(join(certs.dir, 'tickets.key'), keys.toString('base64') + '\n');
  t.equal(tlsOf(new TlsMaterial().attach(c))?.sessionTicketKeys, keys.toString('base64'));
  writeFileSync(join(certs.dir, 'tickets.key'), randomBytes(80));
  t.throws(() => new TlsMaterial().attach(c), { message: /session ticket key file .*tickets\.key must hold 48 random octets .* it holds 80 octets/ });
  t.throws(() => new TlsMaterial().attach(config('session_ticket_key_file = missing.key')), { message: /session ticket key file .*missing\.key cannot be read: ENOENT/ });
});

t.test('an unreadable key stops attach, naming the file', async (t) => {
  const c = config();
  const broken = { ...c, listeners: c.listeners.map((l) => (l.tlsConfig === undefined ? l : { ...l, tlsConfig: { ...l.tlsConfig, privateKey: '/nonexistent.key' } })) };
  t.throws(() => new TlsMaterial().attach(broken), { message: 'private key /nonexistent.key cannot be read: ENOENT' });
});
