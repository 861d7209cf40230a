/**
 * A reason not to start that the operator must fix (a config, a certificate, a user name):
 * the CLI prints its message alone and exits 2, without a stack trace.
 */
export class OperatorError extends Error {}
