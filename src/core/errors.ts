/**
 * The framework's own errors: one class, `ExtpointError`, whose `code` says what went wrong, and one
 * constant per code, so that a program tests `isExtpointError(result.data, ETIMEOUT)` instead of comparing
 * strings. Errors that plugins throw are theirs and are passed on as they are; bad arguments stay
 * `TypeError`s and runaway recursion a `RangeError`.
 */

/** A plugin did not settle within the call's `timeoutMs`: its `EXIT` reason. */
export const ETIMEOUT = 'ETIMEOUT';
/** A plugin returned a promise to a synchronous call (`callPluginsSync`, `callSync`): its `EXIT` reason. */
export const EASYNC = 'EASYNC';
/** `health()` was asked about a module or point that extpoint does not know. */
export const EUNKNOWN = 'EUNKNOWN';
/** The state file (or store) holds a document that cannot be read. */
export const ESTATECORRUPT = 'ESTATECORRUPT';
/** Another live process holds the state file's lock. */
export const ESTATELOCKED = 'ESTATELOCKED';
/** The state file, or a folder above it, can be written by someone other than its owner. */
export const ESTATEPERM = 'ESTATEPERM';
/** The state file or its lock cannot be read or written. */
export const ESTATEIO = 'ESTATEIO';
/** The node a plugin runs on (a worker thread) is down, restarting, or went down during the call. */
export const ENODEDOWN = 'ENODEDOWN';
/** A call's arguments or a plugin's result cannot cross to or from its node by structured clone. */
export const EDATACLONE = 'EDATACLONE';
/**
 * The call's `signal` was aborted before the plugin settled (or before its turn came): its `EXIT` reason.
 * The error's `cause` is the signal's `reason`.
 */
export const EABORT = 'EABORT';

/** Every code the framework produces. */
export const ERROR_CODES = Object.freeze([ETIMEOUT, EASYNC, EUNKNOWN, ESTATECORRUPT, ESTATELOCKED, ESTATEPERM, ESTATEIO, ENODEDOWN, EDATACLONE, EABORT] as const);

/** One of the framework's error codes. */
export type ExtpointErrorCode = (typeof ERROR_CODES)[number];

/**
 * Marks extpoint's errors, registered globally: an error made by one copy of extpoint in the process is
 * recognised by another (the default `extension` is shared by every copy, so its errors travel).
 */
const BRAND: unique symbol = Symbol.for('extpoint.error') as never;

/** An error made by extpoint itself; `code` says which kind (see the `E...` constants). */
export class ExtpointError<C extends ExtpointErrorCode = ExtpointErrorCode> extends Error {
  /** What went wrong, as a constant a program can compare: `ETIMEOUT`, `EASYNC`, ... */
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = 'ExtpointError';
  }

  /**
   * `instanceof ExtpointError` holds for the errors of every copy of extpoint in the process; for a
   * subclass (`StateError`), `instanceof` keeps its ordinary meaning.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== ExtpointError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value instanceof Error && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(ExtpointError.prototype, BRAND, { value: true });

/**
 * True when `value` is an error extpoint made (with `code`, when given). Use it on an `EXIT`'s `data`
 * and on what a call rejects with:
 *
 * @example
 * if (r.state === 'EXIT' && isExtpointError(r.data, ETIMEOUT)) retryLater();
 */
export function isExtpointError<C extends ExtpointErrorCode>(value: unknown, code?: C): value is ExtpointError<C> {
  return value instanceof ExtpointError && (code === undefined || (value as ExtpointError).code === code);
}
