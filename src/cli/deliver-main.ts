// `r2d2 deliver` started the fast way: bin/r2d2 comes here straight for `deliver`, without
// commander and the other commands' modules, because an MTA starts one process per message.
// Options are read with Node's own util.parseArgs; they are those of deliver-command.ts (which
// keeps `deliver` in `r2d2 --help`) and end in the same runDeliver.
import { read } from 'node:fs';
import { parseArgs } from 'node:util';
import { EX_OK, EX_USAGE } from '../deliver/sysexits';
import { DELIVER_HELP, runDeliver, type DeliverOptions } from './deliver-command';

const OPTIONS = {
  maildir: { type: 'string', short: 'm' },
  recipient: { type: 'string', short: 'r' },
  personality: { type: 'string', short: 'p' },
  quota: { type: 'string' },
  'over-quota': { type: 'string' },
  'no-create': { type: 'boolean' },
  'keep-from-line': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `args`: what follows `deliver` on the command line. */
export function main(args: readonly string[]): void {
  let values;
  try {
    values = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    process.stderr.write(`r2d2 deliver: ${(error as Error).message}\n(r2d2 deliver --help lists the options)\n`);
    process.exitCode = EX_USAGE;
    return;
  }
  if (values.help === true) {
    process.stdout.write(DELIVER_HELP);
    process.exitCode = EX_OK;
    return;
  }
  const options: DeliverOptions = {
    ...(values.maildir === undefined ? {} : { maildir: values.maildir }),
    ...(values.recipient === undefined ? {} : { recipient: values.recipient }),
    ...(values.personality === undefined ? {} : { personality: values.personality }),
    ...(values.quota === undefined ? {} : { quota: values.quota }),
    ...(values['over-quota'] === undefined ? {} : { overQuota: values['over-quota'] }),
    create: values['no-create'] !== true,
    keepFromLine: values['keep-from-line'] === true,
    verbose: values.verbose === true,
  };
  runDeliver(options, standardInput(), process.env).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`r2d2 deliver: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 75;
    },
  );
}

const READ_SIZE = 64 * 1024;

/**
 * The message on descriptor 0, read with read(2): process.stdin would first load net, stream
 * and tty (a few milliseconds of every delivery). A non-blocking descriptor (EAGAIN) is left to
 * process.stdin, which waits for it, from where this stopped.
 */
async function* standardInput(): AsyncGenerator<Buffer> {
  for (;;) {
    const buffer = Buffer.allocUnsafe(READ_SIZE);
    let got: number;
    try {
      got = await new Promise<number>((resolve, reject) => read(0, buffer, 0, READ_SIZE, null, (e, n) => (e === null ? resolve(n) : reject(e))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      for await (const chunk of process.stdin) yield chunk as Buffer;
      return;
    }
    if (got === 0) return;
    yield buffer.subarray(0, got);
  }
}
