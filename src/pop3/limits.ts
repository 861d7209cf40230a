// Protocol limits, each with the RFC that sets it.

/** RFC 2449 §4: a command line is at most 255 octets including the CRLF. */
export const MAX_COMMAND_LINE_OCTETS = 255;
/** Lines the reader may hold for a pipelining client before reading pauses (memory bound). */
export const MAX_QUEUED_LINES = 64;
