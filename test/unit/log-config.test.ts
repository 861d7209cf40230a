// The c11n `log` section: destinations, formats, facility, and ServerKit's bypass keys.
import t from 'tap';
import type { LogConfig } from '../../src/config/types';
import { failure as c11nFailure, parseAfterMinimal } from '../helpers/c11n';

const log = (section: string): LogConfig => parseAfterMinimal(section).log;
const failure = (section: string): string => c11nFailure(() => log(section));

const DEFAULTS: LogConfig = { destination: 'stdout', level: 'info', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined };

t.test('defaults: stdout, info, RFC 3164, mail, /dev/log', async (t) => {
  t.same(log(''), DEFAULTS);
  t.same(log('log { }'), DEFAULTS);
});

t.test('syslog to a socket, every key', async (t) => {
  t.same(log('log { destination = syslog; syslog_socket = /run/systemd/journal/dev-log; format = rfc5424; facility = local3; level = warn }'), {
    ...DEFAULTS,
    destination: 'syslog',
    level: 'warn',
    format: 'rfc5424',
    facility: 'local3',
    syslogSocket: '/run/systemd/journal/dev-log',
  });
});

t.test('udp to a collector', async (t) => {
  t.same(log('log { destination = udp; udp_address = "logs.example.org:514" }'), { ...DEFAULTS, destination: 'udp', udpAddress: { host: 'logs.example.org', port: 514 } });
  t.same(log('log { destination = udp; udp_address = "[2001:db8::1]:5140" }').udpAddress, { host: '2001:db8::1', port: 5140 });
  t.same(log('log { bypass_libc_syslog = true; libc_syslog_bypass_address = "127.0.0.1:514" }'), { ...DEFAULTS, destination: 'udp', udpAddress: { host: '127.0.0.1', port: 514 } }, "ServerKit's keys");
  t.same(log('log { destination = syslog; bypass_libc_syslog = false; libc_syslog_bypass_address = "127.0.0.1:514" }'), { ...DEFAULTS, destination: 'syslog' }, 'bypass off parks the address');
});

t.test('mistakes are reported where they were written', async (t) => {
  t.equal(failure('log { destination = udp }'), 'c11n:4:21: log destination udp needs udp_address = "host:port"');
  t.equal(failure('log { bypass_libc_syslog = yes }'), 'c11n:4:28: log destination udp needs udp_address = "host:port"');
  t.equal(failure('log { udp_address = "logs:514" }'), 'c11n:4:21: "udp_address" is for destination = udp (destination is stdout)');
  t.equal(failure('log { destination = syslog; bypass_libc_syslog = true }'), 'c11n:4:50: "bypass_libc_syslog = true" sends to a UDP collector, but destination = syslog');
  t.equal(failure('log { destination = udp; udp_address = "a:1"; libc_syslog_bypass_address = "b:2" }'), 'c11n:4:76: "udp_address" and "libc_syslog_bypass_address" are the same setting: keep one');
  t.equal(failure('log { destination = udp; udp_address = "logs" }'), 'c11n:4:40: "udp_address" must be "host:port" (or "[ipv6]:port") with a port from 1 to 65535, got "logs"');
  t.equal(failure('log { destination = udp; udp_address = "logs:0" }'), 'c11n:4:40: "udp_address" must be "host:port" (or "[ipv6]:port") with a port from 1 to 65535, got "logs:0"');
  t.equal(failure('log { facility = mial }'), 'c11n:4:18: "facility" must be one of kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0, local1, local2, local3, local4, local5, local6, local7, got "mial"');
  t.equal(failure('log { format = json }'), 'c11n:4:16: "format" must be one of rfc3164, rfc5424, got "json"');
  t.equal(failure('log { syslog_socket = dev/log }'), 'c11n:4:23: "syslog_socket" must be an absolute path, got "dev/log"');
});
