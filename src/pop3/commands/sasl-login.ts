// AUTH LOGIN (draft-murchison-sasl-login): the name, then the password, each base64 after a
// "+ " prompt; the name may come as the initial response. Then the same login as USER/PASS.
import { err, proceed } from '../replies';
import { BACK, login } from './authorization';
import type { Outcome, SessionContext } from './context';
import { decodeBase64, INVALID_BASE64 } from './sasl-base64';

/** The prompts clients expect (some show them): base64 of "Username:" and "Password:". */
const USERNAME_PROMPT = Buffer.from('Username:').toString('base64');
const PASSWORD_PROMPT = Buffer.from('Password:').toString('base64');

export function startLogin(initial: string | undefined, ctx: SessionContext): Outcome | Promise<Outcome> {
  if (initial === undefined) return { reply: proceed(USERNAME_PROMPT), next: { kind: 'AUTHORIZATION', user: undefined, sasl: { mechanism: 'LOGIN' } } };
  return loginStep({ mechanism: 'LOGIN' }, initial, ctx);
}

/** One response: the name (then the password prompt), or the password (then the login). */
export function loginStep(step: { readonly mechanism: 'LOGIN'; readonly user?: string }, encoded: string, ctx: SessionContext): Outcome | Promise<Outcome> {
  const decoded = decodeBase64(encoded);
  if (decoded === undefined) return INVALID_BASE64;
  const text = decoded.toString('utf8');
  if (step.user !== undefined) return login(step.user, text, ctx, 'login');
  // A name is what USER would take: no control characters (they could only be an attack on logs or SQL).
  if (text === '' || /[\x00-\x1f\x7f]/.test(text)) return { reply: err('malformed LOGIN user name'), next: BACK, bad: true };
  return { reply: proceed(PASSWORD_PROMPT), next: { kind: 'AUTHORIZATION', user: undefined, sasl: { mechanism: 'LOGIN', user: text } } };
}
