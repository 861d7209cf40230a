// Every socket the supervisor binds for the engine: the POP3 listeners and, when configured,
// nginx's auth_http endpoint. Each worker thread gets a dup of each, by name.
import { AUTH_HTTP_ENDPOINT } from '../config/auth-http-schema';
import type { Config } from '../config/types';

export { AUTH_HTTP_ENDPOINT } from '../config/auth-http-schema';

export interface Endpoint {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export function endpoints(config: Config): Endpoint[] {
  const listeners = config.listeners.map((l) => ({ name: l.name, address: l.address, port: l.port }));
  const auth = config.authHttp;
  return auth === undefined ? listeners : [...listeners, { name: AUTH_HTTP_ENDPOINT, address: auth.address, port: auth.port }];
}
