/**
 * Syslog framing of r2d2's message (`[1] disconnected: ...`): the PRI, timestamp, host and tag
 * that RFC 3164 (BSD syslog, what glibc's syslog(3) sends) or RFC 5424 put in front of it.
 */

import type { Facility } from '../config/syslog-facility';

/** RFC 5424 §6.2.1 facility codes, one for each name a personality may give. */
export const FACILITIES: Readonly<Record<Facility, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

export type SyslogFormat = 'rfc3164' | 'rfc5424';

/** pino's numeric level -> syslog severity (RFC 5424 §6.2.1): fatal=crit, error=err, warn=warning, info, debug. */
export function severityOf(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

export interface FrameOptions {
  readonly format: SyslogFormat;
  readonly facility: Facility;
  /** The syslog tag / APP-NAME: the c11n `identity`. */
  readonly tag: string;
  readonly pid: number;
  /**
   * The sender's host name. RFC 3164 to the local socket leaves it out (as syslog(3) does: the
   * local daemon fills it in, and rsyslog's imuxsock would read a host name as the tag).
   */
  readonly hostname: string | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3164 §4.1.2 TIMESTAMP, local time: `Jan  5 09:03:07` (day padded with a space). */
export function rfc3164Time(now: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[now.getMonth()] ?? 'Jan'} ${String(now.getDate()).padStart(2, ' ')} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
}

/** RFC 5424 §6.2.5 APP-NAME / HOSTNAME: printable US-ASCII, no space, bounded length; "-" if empty. */
function printAscii(text: string, max: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** The datagram's text: header + message. */
export function frame(options: FrameOptions, message: string, level: number, now: Date): string {
  const pri = `<${FACILITIES[options.facility] * 8 + severityOf(level)}>`;
  if (options.format === 'rfc5424') {
    // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
    const host = printAscii(options.hostname ?? '', 255);
    return `${pri}1 ${now.toISOString()} ${host} ${printAscii(options.tag, 48)} ${options.pid} - - ${message}`;
  }
  const host = options.hostname === undefined ? '' : `${printAscii(options.hostname, 255)} `;
  return `${pri}${rfc3164Time(now)} ${host}${options.tag}[${options.pid}]: ${message}`;
}
