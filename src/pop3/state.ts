import type { MaildropView } from './maildrop-view';
import type { UserTerms } from './policy';

/** RFC 1939 §3's states; only the dispatcher changes them, from a handler's outcome. */
export type SessionState =
  /** `sasl`: AUTH sent "+ " and the next line is the client's response (RFC 5034 §4). */
  | { readonly kind: 'AUTHORIZATION'; readonly user: string | undefined; readonly sasl?: 'PLAIN' }
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
  | 'error';
