/**
 * The connection as a session sees it: bytes out, with backpressure, and the few things a POP3
 * session asks of its transport. server/connection.ts implements it over a socket; unit tests
 * over an array of bytes.
 */
export interface Wire {
  /**
   * Writes a reply, or one chunk of a multi-line reply as pieces written together (one writev).
   * Returns a promise when the peer must take the bytes first (`drain`); it also settles when the
   * connection closes.
   */
  write(data: string | readonly Buffer[]): Promise<void> | void;
  /** The connection is closed: nothing written arrives any more. */
  readonly gone: boolean;
  /** Octets written but not yet taken by the peer. */
  readonly buffered: number;
  /**
   * Holds what is written until uncork(), so that the replies of a pipelined burst leave in one
   * write (a syscall, a segment, a wakeup of the client apiece otherwise).
   */
  cork(): void;
  uncork(): void;
  /** Stop / start reading (too many pipelined lines wait). */
  pause(): void;
  resume(): void;
  /** Ends our side once everything written is sent. */
  end(): void;
  /** Closes: `soon` after what is buffered is sent, otherwise at once. */
  destroy(soon: boolean): void;
  /** STLS: the TLS handshake on this connection; false when it failed (the wire is then gone). */
  startTls(): Promise<boolean>;
  /** Protocol and cipher once inside TLS, for the disconnect line. */
  readonly tls: string | undefined;
}
