// The syslog facilities a personality may name (`log { facility = mail }`): RFC 5424 §6.2.1's,
// spelt as rsyslog and syslog.conf spell them. Their codes are src/log/syslog-format.ts's.

export const FACILITY_NAMES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

export type Facility = (typeof FACILITY_NAMES)[number];
