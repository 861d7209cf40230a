// Protocol limits, each with the RFC that sets it.

/** RFC 2449 §4: a command line is at most 255 octets including the CRLF. */
export const MAX_COMMAND_LINE_OCTETS = 255;
/** Lines the reader may hold for a pipelining client before reading pauses (memory bound). */
export const MAX_QUEUED_LINES = 64;
/**
 * A SASL response line after "+ " is no command: RFC 5034 §4 bounds the AUTH line (an initial
 * response included) by RFC 2449's 255, not the responses. An OAuth2 bearer token is often
 * 1-2 KB, a third more in base64; this leaves room for big ones and still bounds memory.
 */
export const MAX_SASL_RESPONSE_OCTETS = 16 * 1024;
