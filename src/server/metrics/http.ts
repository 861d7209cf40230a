// The /metrics endpoint: plain HTTP on the socket the supervisor bound (metrics { address port }).
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { wantsOpenMetrics } from './accept';
import type { Rendered } from './aggregate';

export type RenderMetrics = (openMetrics: boolean) => Promise<Rendered>;

/** Serves GET/HEAD /metrics on the listening socket `fd`; resolves once it listens. */
export async function serveMetrics(fd: number, render: RenderMetrics, log: Logger): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('r2d2 serves its metrics at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    render(wantsOpenMetrics(request.headers.accept)).then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        log.error({ err: error }, 'metrics: scrape failed');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable, see the log\n');
      },
    );
  });
  // A scraper that connects and says nothing holds no socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'metrics: endpoint failed'));
  return server;
}

export async function closeMetrics(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
