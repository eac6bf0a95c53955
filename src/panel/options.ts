/**
 * The options of `servePanel`: where it listens and with which token. Loopback by default; any other host
 * needs a token chosen by the caller, so that a panel reachable from elsewhere is never guarded by a
 * token only this process printed.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { checkOptions } from '../core/options.js';
import { describe } from '../core/naming.js';

/** Where and how `servePanel` serves the web panel. */
export interface PanelOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on; default `'127.0.0.1'`. Any non-loopback address needs `token`. */
  host?: string;
  /** The secret that opens the panel: 16 to 256 letters, digits, `-` or `_`. Generated when absent. */
  token?: string;
}

/** The options checked, with their defaults filled in. */
export interface PanelSettings {
  port: number;
  host: string;
  token: string;
}

const KNOWN = ['port', 'host', 'token'] as const;
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

/** Whether `host` is a loopback address or name: only this machine can reach it. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The settings for `options`.
 *
 * @throws TypeError for an unknown key (naming the nearest one), a value of the wrong shape, or a
 *   non-loopback host without a token.
 */
export function panelSettings(options: unknown): PanelSettings {
  if (options === undefined) options = {};
  checkOptions('servePanel options', options, KNOWN);
  const { port = 0, host = '127.0.0.1', token } = options as PanelOptions;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`extpoint: servePanel option port must be an integer from 0 to 65535 (0 picks a free port), not ${describe(port)}`);
  }
  if (typeof host !== 'string' || host.length === 0) {
    throw new TypeError(`extpoint: servePanel option host must be a non-empty string such as '127.0.0.1', not ${describe(host)}`);
  }
  if (token !== undefined && (typeof token !== 'string' || !TOKEN.test(token))) {
    throw new TypeError(
      `extpoint: servePanel option token must be 16 to 256 letters, digits, - or _ (it goes into a URL and a cookie), not ${typeof token === 'string' ? `a string of ${token.length} such characters or others` : describe(token)}`,
    );
  }
  if (token === undefined && !isLoopback(host)) {
    throw new TypeError(
      `extpoint: servePanel on host ${describe(host)} is reachable from other machines; give it an explicit token ` +
        `(servePanel({ host, token })) or listen on '127.0.0.1'`,
    );
  }
  return { port, host, token: token ?? randomBytes(24).toString('base64url') };
}
