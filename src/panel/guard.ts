/**
 * Who may use the panel: a request carries the token (the `X-Extpoint-Token` header) or the cookie the
 * token was exchanged for; a state-changing request carries the header and comes from the panel's own
 * origin (CSRF); and every request names the panel's own host (DNS rebinding).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopback } from './options.js';

/** The header a POST carries the token in. */
export const TOKEN_HEADER = 'x-extpoint-token';

export class Guard {
  /** The cookie's name: per port, so that two panels on one machine keep their own. */
  readonly cookieName: string;
  /** The Host headers accepted (loopback panels only: a name resolved to 127.0.0.1 by another site is refused); null for any. */
  private readonly hosts: Set<string> | null;
  private readonly secret: Buffer;

  constructor(
    readonly token: string,
    host: string,
    port: number,
  ) {
    this.secret = Buffer.from(token);
    this.cookieName = `extpoint-panel-${port}`;
    const names = ['127.0.0.1', 'localhost', '[::1]', host.includes(':') && !host.startsWith('[') ? `[${host}]` : host];
    this.hosts = isLoopback(host) ? new Set(names.map((name) => `${name}:${port}`)) : null;
  }

  /** The `Set-Cookie` value that stands for the token from now on. */
  cookie(): string {
    return `${this.cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }

  private matches(given: string | undefined): boolean {
    if (given === undefined) return false;
    const bytes = Buffer.from(given);
    return bytes.length === this.secret.length && timingSafeEqual(bytes, this.secret);
  }

  /** Whether the request's Host header names this panel (a page of another site resolved to us does not). */
  knownHost(req: IncomingMessage): boolean {
    return req.headers.host !== undefined && (this.hosts === null || this.hosts.has(req.headers.host.toLowerCase()));
  }

  /** Whether the request carries the token header. */
  hasToken(req: IncomingMessage): boolean {
    const header = req.headers[TOKEN_HEADER];
    return this.matches(typeof header === 'string' ? header : undefined);
  }

  /** Whether the request carries the token header or the cookie. */
  authenticated(req: IncomingMessage): boolean {
    if (this.hasToken(req)) return true;
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName && this.matches(part.slice(eq + 1).trim())) return true;
    }
    return false;
  }

  /**
   * Whether a state-changing request comes from the panel's own page: `Sec-Fetch-Site`, when sent, says
   * `same-origin`, and `Origin` is sent and names this panel's host. A request with neither is refused.
   */
  sameOrigin(req: IncomingMessage): boolean {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return false;
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    return origin === `http://${req.headers.host ?? ''}` && this.knownHost(req);
  }
}
