// The RETR encoder's WebAssembly kernel: the committed bytes are what its source compiles to,
// and without WebAssembly (node --jitless) the JS kernel serves the same bytes.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const hasWat2wasm = spawnSync('wat2wasm', ['--version']).status === 0;

t.test('src/pop3/encoder-kernel-bytes.ts is what src/pop3/wasm/encoder-kernel.wat compiles to', { skip: hasWat2wasm ? false : 'wat2wasm (Debian: wabt) is not installed' }, async (t) => {
  const check = spawnSync('bash', [path.join(ROOT, 'src/pop3/wasm/build.sh'), '--check'], { encoding: 'utf8' });
  t.equal(check.status, 0, check.stderr);
});

t.test('without WebAssembly (node --jitless) the encoder falls back to JS and gives the same bytes', async (t) => {
  const script = `
    const { wasmKernelAvailable } = require('./dist/src/pop3/encoder-wasm.js');
    const { MessageEncoder } = require('./dist/src/pop3/message-encoder.js');
    const input = Buffer.from('From: a\\n.dot\\r\\n\\n.\\nbody\\r\\n..two\\nlast', 'latin1');
    const encoder = new MessageEncoder();
    const out = Buffer.alloc(MessageEncoder.maxEncodedLength(input.length));
    const parts = [encoder.encode(input.subarray(0, 9)), out.subarray(0, encoder.encodeInto(input.subarray(9), out)), encoder.end()];
    process.stdout.write(JSON.stringify({ wasmKernelAvailable, wire: Buffer.concat(parts).toString('latin1') }));`;
  const run = (flags: string[]): unknown => JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const want = 'From: a\r\n..dot\r\n\r\n..\r\nbody\r\n...two\r\nlast\r\n.\r\n';
  t.same(run(['--jitless']), { wasmKernelAvailable: false, wire: want });
  t.same(run([]), { wasmKernelAvailable: true, wire: want });
});
