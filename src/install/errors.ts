/**
 * The installer's errors: plain `Error`s with a `code` a caller can branch on, and a message that says
 * what was wrong and how to fix it.
 */

/** The codes an install, upgrade or uninstall fails with. */
export type InstallErrorCode =
  | 'ENOTALLOWED'
  | 'EINTEGRITY'
  | 'EUNSAFEENTRY'
  | 'ETOOLARGE'
  | 'EVERSION'
  | 'EPROTECTED'
  | 'ELOADFAILED'
  | 'EBADPACKAGE'
  | 'ENOTINSTALLED';

/** An installer failure: `code` names the kind, `message` the cause and the fix. */
export interface InstallError extends Error {
  code: InstallErrorCode;
}

/** A new installer error with code `code`; the message is prefixed with `extpoint install: `. */
export function installError(code: InstallErrorCode, message: string, cause?: unknown): InstallError {
  const err = new Error(`extpoint install: ${message}`, cause === undefined ? undefined : { cause }) as InstallError;
  err.code = code;
  return err;
}

/** True when `err` is an installer error (of code `code`, when given). */
export function isInstallError(err: unknown, code?: InstallErrorCode): err is InstallError {
  return err instanceof Error && typeof (err as InstallError).code === 'string' && (code === undefined || (err as InstallError).code === code);
}
