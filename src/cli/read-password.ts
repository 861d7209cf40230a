// A password for a command-line tool: from standard input (--stdin, for scripts and tests:
// never on the command line, where `ps` shows it) or typed at the terminal without echo.
import { OperatorError } from '../config/operator-error';

/** All of standard input, less one trailing line end. */
export async function passwordFromStdin(input: AsyncIterable<Uint8Array> = process.stdin): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of input) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}

/** Asks on the terminal (no echo); `confirm` asks twice and insists they agree. */
export async function passwordFromTerminal(prompt: string, confirm: boolean): Promise<string> {
  if (process.stdin.isTTY !== true) throw new OperatorError('no terminal to ask for the password: use --stdin');
  const first = await ask(prompt);
  if (confirm && (await ask('Retype password: ')) !== first) throw new OperatorError('the passwords do not match');
  return first;
}

function ask(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error === undefined) resolve(typed);
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003' || char === '\u0004') return done(new OperatorError('cancelled'));
        typed = char === '\u007f' || char === '\b' ? [...typed].slice(0, -1).join('') : typed + char;
      }
    };
    stdin.on('data', onData);
  });
}
