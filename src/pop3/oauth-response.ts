// The client's message in SASL OAUTHBEARER (RFC 7628 §3.1, its GS2 header from RFC 5801 §4)
// and in Google's XOAUTH2: pure parsing, no I/O. Only the bearer token and the user the client
// names come out; host= and port= are informational and ignored.

export type OAuthMessage =
  | { readonly kind: 'token'; readonly token: string; readonly user: string | undefined }
  | { readonly kind: 'malformed'; readonly reason: string };

const KVSEP = '\x01';
/** RFC 7628 §3.1: key = 1*(ALPHA); value = *(VCHAR / SP / HTAB / CR / LF). */
const KVPAIR = /^([A-Za-z]+)=([\x20-\x7e\t\r\n]*)$/;
/** RFC 6750 §2.1: "Bearer" (any case) 1*SP b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 5801 §4: [F,] (n | y | p=cb-name) , [a=saslname] , */
const GS2_HEADER = /^(?:F,)?(n|y|p=[A-Za-z0-9.-]+),(?:a=([^,]*))?,/;

/** RFC 7628 §3.1: gs2-header kvsep *kvpair kvsep, where `auth` holds the bearer token. */
export function parseOAuthBearer(message: Buffer): OAuthMessage {
  const text = message.toString('utf8');
  const header = GS2_HEADER.exec(text);
  if (header === null) return malformed('no GS2 header (n,a=user,)');
  if (header[1]?.startsWith('p=')) return malformed('channel binding is not supported');
  const user = header[2] === undefined ? undefined : unescapeSaslName(header[2]);
  if (user === null || user === '') return malformed('bad authzid in the GS2 header');
  const pairs = keyValues(text.slice(header[0].length), true);
  if ('reason' in pairs) return malformed(pairs.reason);
  return bearerOf(pairs.values, user);
}

/** XOAUTH2: user=NAME ^A auth=Bearer TOKEN ^A ^A. */
export function parseXOAuth2(message: Buffer): OAuthMessage {
  const pairs = keyValues(message.toString('utf8'), false);
  if ('reason' in pairs) return malformed(pairs.reason);
  const user = pairs.values.get('user');
  if (user === undefined || user === '') return malformed('no user=');
  return bearerOf(pairs.values, user);
}

function bearerOf(values: ReadonlyMap<string, string>, user: string | undefined): OAuthMessage {
  const auth = values.get('auth');
  if (auth === undefined) return malformed('no auth=');
  const bearer = BEARER.exec(auth);
  if (bearer?.[1] === undefined) return malformed('auth= is not "Bearer <token>"');
  return { kind: 'token', token: bearer[1], user };
}

/** `leadingSeparator`: OAUTHBEARER's pairs follow the header's kvsep; XOAUTH2 starts with a pair. */
function keyValues(text: string, leadingSeparator: boolean): { readonly values: Map<string, string> } | { readonly reason: string } {
  if (leadingSeparator && !text.startsWith(KVSEP)) return { reason: 'no ^A after the GS2 header' };
  if (!text.endsWith(KVSEP + KVSEP)) return { reason: 'does not end with ^A^A' };
  const body = text.slice(leadingSeparator ? 1 : 0, -2);
  const values = new Map<string, string>();
  if (body === '') return { values };
  for (const pair of body.split(KVSEP)) {
    const match = KVPAIR.exec(pair);
    const key = match?.[1]?.toLowerCase();
    if (match === null || key === undefined) return { reason: 'a key=value pair is malformed' };
    if (values.has(key)) return { reason: `${key}= twice` };
    values.set(key, match[2] ?? '');
  }
  return { values };
}

/** RFC 5801 §4 saslname: "," is written =2C and "=" is =3D; any other "=" is an error (null). */
function unescapeSaslName(name: string): string | null {
  if (/=(?!2C|3D)/.test(name)) return null;
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function malformed(reason: string): OAuthMessage {
  return { kind: 'malformed', reason };
}
