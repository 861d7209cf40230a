import type { MaildropView } from './maildrop-view';

/** RFC 1939 §3's states; only the dispatcher changes them, from a handler's outcome. */
export type SessionState =
  /** `sasl`: AUTH sent "+ " and the next line is the client's response (RFC 5034 §4). */
  | { readonly kind: 'AUTHORIZATION'; readonly user: string | undefined; readonly sasl?: 'PLAIN' }
  | { readonly kind: 'TRANSACTION'; readonly user: string; readonly drop: MaildropView }
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
