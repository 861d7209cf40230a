// Property-based tests of the line reader and the command parser against reference models:
// any byte stream, cut into chunks anywhere, gives the lines RFC 2449 §4 allows and nothing
// else; the parser never throws and agrees with a plain re-statement of its rules.
import t from 'tap';
import fc from 'fast-check';
import { parseCommand } from '../../src/pop3/command';
import { LineReader, type LineEvent } from '../../src/pop3/line-reader';
import { MAX_COMMAND_LINE_OCTETS } from '../../src/pop3/limits';
import { chunked, cutPoints, params, protocolBytes, runs } from '../helpers/fuzz';

type Model = { kind: 'line'; line: string } | { kind: 'too-long' };

/**
 * The reference: every LF ends a line (a CR before it is dropped); a line whose text, without
 * its CR LF, is over max - 2 octets is reported as too long; an unfinished line yields nothing.
 */
function model(stream: Buffer, max: number): Model[] {
  const text = stream.toString('latin1');
  const parts = text.split('\n');
  parts.pop(); // not ended by LF: not a line yet
  return parts.map((p) => {
    const line = p.endsWith('\r') ? p.slice(0, -1) : p;
    return line.length > max - 2 ? { kind: 'too-long' } : { kind: 'line', line };
  });
}

function drain(reader: LineReader): Model[] {
  const out: Model[] = [];
  for (let e: LineEvent | undefined = reader.next(); e !== undefined; e = reader.next()) {
    out.push(e.kind === 'line' ? { kind: 'line', line: e.line.toString('latin1') } : { kind: 'too-long' });
  }
  return out;
}

t.test('LineReader: any stream in any chunks gives the model lines (RFC 2449 limit)', async (t) => {
  fc.assert(
    fc.property(protocolBytes(3000), cutPoints, (stream, cuts) => {
      const reader = new LineReader();
      for (const chunk of chunked(stream, cuts)) reader.push(chunk);
      const got = drain(reader);
      const want = model(stream, MAX_COMMAND_LINE_OCTETS);
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
    }),
    params(400),
  );
  t.pass(`held for ${runs(400)} inputs`);
});

t.test('LineReader: a small limit, reading lines between pushes', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 12 }), protocolBytes(300), cutPoints, (max, stream, cuts) => {
      const reader = new LineReader(max);
      const got: Model[] = [];
      for (const chunk of chunked(stream, cuts)) {
        reader.push(chunk);
        got.push(...drain(reader));
      }
      const want = model(stream, max);
      for (const e of got) if (e.kind === 'line' && e.line.length + 2 > max) throw new Error(`line over the limit: ${JSON.stringify(e.line)}`);
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`max ${max}: got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
    }),
    params(400),
  );
  t.pass(`held for ${runs(400)} inputs`);
});

/**
 * The reference with a limit that changes between pushes (a SASL response after "+ " may be
 * longer than a command): each chunk is read under the limit current when it arrives; a line
 * that outgrew the limit at any chunk stays too long; its end is judged by the last chunk's.
 */
function modelChanging(chunks: readonly Buffer[], limits: readonly number[]): Model[] {
  const out: Model[] = [];
  let current = '';
  let over = false;
  chunks.forEach((chunk, i) => {
    const max = limits[i % limits.length] ?? MAX_COMMAND_LINE_OCTETS;
    const pieces = chunk.toString('latin1').split('\n');
    pieces.forEach((piece, j) => {
      current += piece;
      if (current.length > max - 1) over = true;
      if (j === pieces.length - 1) return; // no LF yet: the line goes on in the next chunk
      const line = current.endsWith('\r') ? current.slice(0, -1) : current;
      out.push(over || line.length > max - 2 ? { kind: 'too-long' } : { kind: 'line', line });
      current = '';
      over = false;
    });
  });
  return out;
}

t.test('LineReader: a limit that changes between pushes (16 KB for a SASL response, 255 for commands)', async (t) => {
  fc.assert(
    fc.property(protocolBytes(3000), cutPoints, fc.array(fc.constantFrom(3, 8, 255, 700), { minLength: 1, maxLength: 6 }), (stream, cuts, limits) => {
      let limit = limits[0] ?? MAX_COMMAND_LINE_OCTETS;
      const reader = new LineReader(() => limit);
      const chunks = chunked(stream, cuts);
      chunks.forEach((chunk, i) => {
        limit = limits[i % limits.length] ?? MAX_COMMAND_LINE_OCTETS;
        reader.push(chunk);
      });
      const got = drain(reader);
      const want = modelChanging(chunks, limits);
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`limits ${JSON.stringify(limits)}: got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
    }),
    params(400),
  );
  t.pass(`held for ${runs(400)} inputs`);
});

/** The parser's rules, re-stated: RFC 1939 §3 keywords, printable arguments, PASS's rest. */
function parseModel(line: Buffer): ReturnType<typeof parseCommand> {
  if (line.length === 0) return { kind: 'invalid', reason: 'empty command' };
  if ([...line].some((b) => b < 0x20 || b === 0x7f)) return { kind: 'invalid', reason: 'invalid characters in command' };
  const text = line.toString('utf8');
  const [keyword = '', ...restParts] = text.split(' ');
  if (!/^[A-Za-z]{1,8}$/.test(keyword)) return { kind: 'invalid', reason: 'unknown command' };
  const rest = restParts.join(' ');
  return { kind: 'command', command: { name: keyword.toUpperCase(), args: rest.split(' ').filter((a) => a !== ''), rest } };
}

const KEYWORDS = ['USER', 'PASS', 'QUIT', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'TOP', 'UIDL', 'CAPA', 'STLS', 'APOP', 'AUTH'];
const commandLine = fc
  .tuple(
    fc.constantFrom(...KEYWORDS).chain((k) => fc.mixedCase(fc.constant(k))),
    fc.array(fc.oneof(fc.nat({ max: 99999 }).map(String), fc.string({ maxLength: 12 }), fc.constant('')), { maxLength: 4 }),
  )
  .map(([k, args]) => Buffer.from([k, ...args].join(' '), 'utf8'));

t.test('parseCommand: never throws, and agrees with the model on any line', async (t) => {
  fc.assert(
    fc.property(fc.oneof(protocolBytes(300), commandLine, fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), (line) => {
      const got = parseCommand(line);
      const want = parseModel(line);
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
      if (got.kind === 'command') {
        if (!/^[A-Z]{1,8}$/.test(got.command.name)) throw new Error(`bad keyword ${got.command.name}`);
        for (const a of got.command.args) if (a.length === 0 || a.includes(' ')) throw new Error(`bad argument ${JSON.stringify(a)}`);
      }
    }),
    params(1000),
  );
  t.pass(`held for ${runs(1000)} inputs`);
});

t.test('LineReader + parseCommand: a pipelined stream of commands comes back command for command', async (t) => {
  fc.assert(
    fc.property(fc.array(commandLine, { maxLength: 30 }), fc.constantFrom('\r\n', '\n'), cutPoints, (lines, eol, cuts) => {
      const stream = Buffer.concat(lines.flatMap((l) => [l, Buffer.from(eol)]));
      const reader = new LineReader();
      for (const chunk of chunked(stream, cuts)) reader.push(chunk);
      const events = drain(reader);
      if (events.length !== lines.length) throw new Error(`${events.length} events for ${lines.length} lines`);
      events.forEach((e, i) => {
        const sent = lines[i] ?? Buffer.alloc(0);
        if (sent.length + 2 > MAX_COMMAND_LINE_OCTETS) {
          if (e.kind !== 'too-long') throw new Error(`line ${i} should be too long`);
        } else if (e.kind !== 'line' || JSON.stringify(parseCommand(Buffer.from(e.line, 'latin1'))) !== JSON.stringify(parseCommand(sent))) {
          throw new Error(`line ${i} parsed differently`);
        }
      });
    }),
    params(400),
  );
  t.pass(`held for ${runs(400)} inputs`);
});
