// What a PROXY protocol header says (header.ts reads v1, v2.ts reads v2).

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** The PP2_TYPE_SSL TLV: TLS between the client and the proxy (HAProxy send-proxy-v2-ssl). */
export interface ProxySsl {
  /** PP2_CLIENT_SSL (0x01): the client's connection to the proxy was TLS. */
  readonly clientSsl: boolean;
  /** 0 when the client presented a certificate that was verified. */
  readonly verify: number;
  /** PP2_SUBTYPE_SSL_VERSION, e.g. "TLSv1.3". */
  readonly version?: string;
  /** PP2_SUBTYPE_SSL_CIPHER, e.g. "TLS_AES_256_GCM_SHA384". */
  readonly cipher?: string;
}

export interface Tlv {
  readonly type: number;
  readonly value: Buffer;
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  /** `local`: the proxy's own connection (v2 LOCAL, a health check); `proxy`: relayed for a client. */
  readonly command: 'local' | 'proxy';
  /** The client (source) and the address it reached (destination); absent when the header names none. */
  readonly source?: Endpoint;
  readonly destination?: Endpoint;
  /** v2 only: every TLV, in order (the SSL one also read into `ssl`). */
  readonly tlvs: readonly Tlv[];
  readonly ssl?: ProxySsl;
}

export type HeaderParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly length: number };

export function invalid(reason: string): HeaderParse {
  return { kind: 'invalid', reason };
}
