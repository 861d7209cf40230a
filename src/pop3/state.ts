import type { MaildropView } from './maildrop-view';
import type { UserTerms } from './policy';

/** An AUTH exchange waiting for the client's next response line (RFC 5034 §4). */
export type SaslStep =
  | { readonly mechanism: 'PLAIN' }
  /** LOGIN asks for the name, then (with `user` known) for the password. */
  | { readonly mechanism: 'LOGIN'; readonly user?: string }
  | { readonly mechanism: 'OAUTHBEARER' | 'XOAUTH2' }
  /** RFC 7628 §3.2.3: the error challenge was sent; the client's next line (%x01) ends the exchange. */
  | { readonly mechanism: 'OAUTH-FAILED' };

/** RFC 1939 §3's states; only the dispatcher changes them, from a handler's outcome. */
export type SessionState =
  /** `sasl`: AUTH sent "+ " and the next line is the client's response (RFC 5034 §4). */
  | { readonly kind: 'AUTHORIZATION'; readonly user: string | undefined; readonly sasl?: SaslStep }
  /** `terms`: the user's LOGIN-DELAY and EXPIRE (CAPA, and what UPDATE expires). */
  | { readonly kind: 'TRANSACTION'; readonly user: string; readonly drop: MaildropView; readonly terms: UserTerms }
  | { readonly kind: 'UPDATE' };

export type AuthorizationState = Extract<SessionState, { kind: 'AUTHORIZATION' }>;
export type TransactionState = Extract<SessionState, { kind: 'TRANSACTION' }>;

/** Why a session ended, exactly as the disconnect log line says it. */
export type CloseReason =
  | 'peer quit'
  | 'peer closed'
  | 'timeout'
  | 'too many bad commands'
  | 'server shutdown'
  /** An operator ended it (`r2d2 kick`): like a shutdown, no deletions applied. */
  | 'kicked'
  | 'error';
