// The lab's syslog collector, run inside the client namespace: every r2d2 host sends its lines
// here by UDP (RFC 5424: the sender's timestamp and host name in each). One line per datagram,
// prefixed with when it arrived. Usage: node collector.js ADDRESS PORT FILE
import { createSocket } from 'node:dgram';
import { openSync, writeSync } from 'node:fs';

const [address, port, file] = process.argv.slice(2);
if (address === undefined || port === undefined || file === undefined) {
  process.stderr.write('usage: collector.js ADDRESS PORT FILE\n');
  process.exit(64);
}
const out = openSync(file, 'a');
// Lines are never dropped here for want of room: the lab reads every one of them.
const socket = createSocket({ type: 'udp4', recvBufferSize: 32 * 1024 * 1024 });
socket.on('message', (message: Buffer) => {
  writeSync(out, `${Date.now()} ${message.toString('utf8').replace(/[\r\n]+/g, ' ')}\n`);
});
socket.bind(Number(port), address, () => {
  process.stdout.write(`collector listening on ${address}:${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
