// One JSON document over https, for the identity provider's JWKS and introspection endpoints:
// a private CA when configured, a deadline, a size cap, no redirects. Error messages name the
// host and what went wrong, never the request body (it may carry a token).
import https from 'node:https';

export interface HttpsJsonRequest {
  readonly url: string;
  /** PEM of the CA the server's certificate must chain to; undefined = the system's CAs. */
  readonly ca: string | undefined;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The whole exchange, connect to last byte. */
  readonly timeoutMs: number;
  /** A bigger answer is cut off and refused (a JWKS or introspection answer is a few KB). */
  readonly maxOctets: number;
}

export class HttpsJsonError extends Error {
  override readonly name = 'HttpsJsonError';
}

export function httpsJson(request: HttpsJsonRequest): Promise<unknown> {
  const where = new URL(request.url).host;
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => reject(new HttpsJsonError(`${where}: ${reason}`));
    const req = https.request(
      request.url,
      {
        method: request.method ?? 'GET',
        // A length rather than chunked encoding: some providers' proxies refuse a chunked POST.
        headers: { accept: 'application/json', ...request.headers, ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}) },
        ...(request.ca !== undefined ? { ca: request.ca } : {}),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(`HTTP ${res.statusCode ?? '?'}`);
          return;
        }
        const chunks: Buffer[] = [];
        let octets = 0;
        res.on('data', (chunk: Buffer) => {
          octets += chunk.length;
          if (octets > request.maxOctets) {
            req.destroy();
            fail(`answer larger than ${request.maxOctets} octets`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            fail('answer is not JSON');
          }
        });
        res.on('error', (error) => fail(error.message));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      fail(`no answer within ${request.timeoutMs} ms`);
    }, request.timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (error) => fail(error.message));
    req.end(request.body);
  });
}
