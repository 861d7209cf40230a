/** What the session knows of its transport, for STLS, CAPA and the plaintext-auth policy. */
export interface SessionSecurity {
  /** The connection is inside TLS (implicit, or after STLS). */
  readonly secure: boolean;
  /** STLS is on offer: a plain connection on a listener with a certificate (RFC 2595). */
  readonly canStartTls: boolean;
  /** USER/PASS may run now: inside TLS, plaintext_auth = always, or a trusted loopback peer. */
  readonly plaintextAuthAllowed: boolean;
}

/** The connection's view: it flips `secure` when a handshake completes. */
export class TransportSecurity implements SessionSecurity {
  constructor(
    public secure: boolean,
    private readonly stlsListener: boolean,
    private readonly plaintextAlways: boolean,
    private readonly trustedPeer: boolean,
  ) {}

  get canStartTls(): boolean {
    return this.stlsListener && !this.secure;
  }

  get plaintextAuthAllowed(): boolean {
    return this.secure || this.plaintextAlways || this.trustedPeer;
  }
}
