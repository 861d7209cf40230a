// SHA-crypt's $6$ round loop in WebAssembly: the committed bytes are what the .wat compiles to,
// its SHA-512 is node:crypto's for every length around the block boundaries, and $6$ strings
// equal libxcrypt's (Perl's crypt() calls the system's crypt(3)), Drepper's test vectors and the
// JavaScript loop -- also without WebAssembly (node --jitless), and for passwords too long for it.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseShaCryptSetting, shaCrypt } from '../../src/accounts/passwords/sha-crypt';
import { sha512InModule, sha512RoundsAvailable } from '../../src/accounts/passwords/sha512-rounds';

const ROOT = path.resolve(__dirname, '../../..');
const hasWat2wasm = spawnSync('wat2wasm', ['--version']).status === 0;

t.test('src/accounts/passwords/sha512-rounds-bytes.ts is what wasm/sha512-rounds.wat compiles to', { skip: hasWat2wasm ? false : 'wat2wasm (Debian: wabt) is not installed' }, async (t) => {
  const check = spawnSync('bash', [path.join(ROOT, 'src/accounts/passwords/wasm/build.sh'), '--check'], { encoding: 'utf8' });
  t.equal(check.status, 0, check.stderr);
});

t.test("the module's SHA-512 is node:crypto's for every length from 0 to 520 and some longer", async (t) => {
  t.ok(sha512RoundsAvailable, 'WebAssembly is there');
  const wrong: number[] = [];
  for (const length of [...Array.from({ length: 521 }, (_, i) => i), 1023, 1024, 1025, 2175, 2176, 4000]) {
    const data = randomBytes(length);
    const digest = sha512InModule(data);
    if (digest === undefined || !digest.equals(createHash('sha512').update(data).digest())) wrong.push(length);
  }
  t.same(wrong, [], 'no length differs');
});

const crypt = (password: Buffer, setting: string, inModule = true): string => {
  const parsed = parseShaCryptSetting(setting);
  if (parsed === undefined) throw new Error(`not a setting: ${setting}`);
  return shaCrypt(password, parsed, inModule);
};

t.test("Drepper's $6$ test vectors (SHA-crypt.txt)", async (t) => {
  t.equal(crypt(Buffer.from('Hello world!'), '$6$saltstring'), '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1');
  t.equal(
    crypt(Buffer.from('Hello world!'), '$6$rounds=10000$saltstringsaltstring'),
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  );
  t.equal(
    crypt(Buffer.from('we have a short salt string but not a short password'), '$6$rounds=77777$short'),
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  );
});

t.test("the same $6$ strings as libxcrypt (Perl's crypt) and as the JavaScript loop", async (t) => {
  const cases: Array<[Buffer, string]> = [
    [Buffer.from('pässwörd 1!'), '$6$yOAaQ2BwOf40HkcW'],
    [Buffer.from('x'.repeat(127)), '$6$rounds=1000$0123456789abcdef'],
    [Buffer.from('y'.repeat(511)), '$6$rounds=1500$s'], // libxcrypt's longest passphrase (512 with its NUL)
    ...Array.from({ length: 6 }, (_, i): [Buffer, string] => [
      Buffer.from(randomBytes(1 + ((i * 37) % 200)).map((b) => 0x21 + (b % 94))),
      `$6$rounds=${1000 + i * 333}$${randomBytes(9).toString('base64').replace(/[+=]/g, '.')}`,
    ]),
  ];
  for (const [password, setting] of cases) {
    const fromModule = crypt(password, setting);
    const script = 'my ($p, $s) = (do { local $/; <STDIN> }, $ARGV[0]); print crypt($p, $s)';
    const libxcrypt = execFileSync('perl', ['-e', script, setting], { input: password, encoding: 'utf8' });
    t.equal(fromModule, libxcrypt, `${password.length}-byte password, ${setting}: libxcrypt's`);
    t.equal(crypt(password, setting, false), fromModule, "and the JavaScript loop's");
  }
  // Beyond what libxcrypt takes (511 bytes), and what the module holds (1024): the JavaScript loop agrees.
  for (const [password, setting] of [[Buffer.alloc(0), '$6$abc'], [Buffer.from('y'.repeat(1024)), '$6$rounds=1200$s'], [Buffer.from('z'.repeat(2000)), '$6$rounds=1000$toolong']] as const) {
    t.equal(crypt(password, setting), crypt(password, setting, false), `${password.length}-byte password: the module and the JavaScript loop agree`);
  }
});

t.test('without WebAssembly (node --jitless) the JavaScript loop gives the same strings', async (t) => {
  const script = `
    const { parseShaCryptSetting, shaCrypt } = require('./dist/src/accounts/passwords/sha-crypt.js');
    const { sha512RoundsAvailable } = require('./dist/src/accounts/passwords/sha512-rounds.js');
    process.stdout.write(JSON.stringify({ sha512RoundsAvailable, hash: shaCrypt(Buffer.from('Hello world!'), parseShaCryptSetting('$6$saltstring')) }));`;
  const run = (flags: string[]): unknown => JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const hash = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
  t.same(run(['--jitless']), { sha512RoundsAvailable: false, hash });
  t.same(run([]), { sha512RoundsAvailable: true, hash });
});
