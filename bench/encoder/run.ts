// `npm run bench:encoder`: MB/s of each RETR encoder candidate on typical mail, one core (this
// thread), input MB per second of CPU time, median of several runs. A candidate's output is
// checked against the original encoder's before it is timed. Columns: 64 KiB chunks in the
// CPU cache (as just read by the server) of base64 lines, text lines and a mix, CRLF or LF;
// the mix streamed from memory (4 MiB); 30 KB messages encoded whole.
import { cpus } from 'node:os';
import { candidates, type Candidate } from './candidates';
import { makeMessage, type Shape } from './corpus';
import { OriginalMessageEncoder } from './original-encoder';

const CHUNK = 65536;
const RUNS = Number(process.env['R2D2_BENCH_RUNS'] ?? 7);
const RUN_MS = Number(process.env['R2D2_BENCH_MS'] ?? 150);

interface Workload {
  name: string;
  /** Messages, each as the chunks the server feeds the encoder. */
  messages: Buffer[][];
  octets: number;
}

function chunks(message: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < message.length; i += size) out.push(message.subarray(i, i + size));
  return out;
}

function workloads(): Workload[] {
  const list: Workload[] = [];
  for (const shape of ['base64', 'text', 'mix'] as Shape[]) {
    for (const [eolName, eol] of [['CRLF', '\r\n'], ['LF', '\n']] as const) {
      // The streamed path as the server runs it: each 64 KiB chunk was just read into the
      // connection's buffer, so it is in the CPU cache: one 64 KiB chunk, 64 times over.
      const chunk = makeMessage(shape, eol, CHUNK).subarray(0, CHUNK);
      list.push({ name: `${shape} ${eolName}`, messages: [Array.from({ length: 64 }, () => chunk)], octets: 64 * CHUNK });
    }
  }
  // The same from memory, not from the cache: one 4 MiB message, 64 KiB at a time.
  for (const [eolName, eol] of [['CRLF', '\r\n'], ['LF', '\n']] as const) {
    const message = makeMessage('mix', eol, 4 << 20);
    list.push({ name: `mix ${eolName} 4M cold`, messages: [chunks(message, CHUNK)], octets: message.length });
  }
  // 100 messages of ~30 KB, each encoded whole (the small-file path: the retrieve workload).
  const small = Array.from({ length: 100 }, (_, i) => makeMessage('mix', '\n', 30_000, i + 1));
  list.push({ name: 'mix LF 30K whole', messages: small.map((m) => [m]), octets: small.reduce((n, m) => n + m.length, 0) });
  return list;
}

/** The original encoder's output length, and how much of it is end()'s terminators. */
function referenceLength(messages: Buffer[][]): { total: number; terminators: number } {
  let total = 0;
  let terminators = 0;
  for (const message of messages) {
    const encoder = new OriginalMessageEncoder();
    for (const chunk of message) total += encoder.encode(chunk).length;
    const end = encoder.end().length;
    total += end;
    terminators += end;
  }
  return { total, terminators };
}

/** CPU time in ms of this thread's process (one busy thread: the wall clock would count others' load). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function measure(candidate: Candidate, work: Workload): number {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let octets = 0;
    const start = cpuMs();
    let elapsed = 0;
    do {
      for (const message of work.messages) candidate.encodeMessage(message);
      octets += work.octets;
      elapsed = cpuMs() - start;
    } while (elapsed < RUN_MS);
    rates.push(octets / 1e6 / (elapsed / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] as number;
}

function main(): void {
  const list = workloads();
  console.log(`encoder micro-benchmark: node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, median of ${RUNS} runs of >= ${RUN_MS} ms CPU`);
  console.log('input MB/s (10^6 octets per CPU second), one thread\n');
  const width = Math.max(...candidates.map((c) => c.name.length));
  console.log(['candidate'.padEnd(width), ...list.map((w) => w.name)].join(' | '));
  for (const work of list) {
    const want = referenceLength(work.messages);
    for (const c of candidates) {
      if (c.name.startsWith('memcpy')) continue;
      // The kernels leave out the terminators that end() adds.
      const got = work.messages.reduce((n, m) => n + c.encodeMessage(m), 0);
      if (got !== want.total && got !== want.total - want.terminators) throw new Error(`${c.name} on ${work.name}: ${got} octets, want ${want.total}`);
    }
  }
  for (const c of candidates) {
    // Warm up (JIT) before the timed runs.
    for (const work of list) for (const message of work.messages) c.encodeMessage(message);
    const cells = list.map((work) => measure(c, work).toFixed(0).padStart(work.name.length));
    console.log([c.name.padEnd(width), ...cells].join(' | '));
  }
}

main();
