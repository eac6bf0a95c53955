/**
 * The web panel's HTTP server (`node:http`): the page and its assets, the report as JSON, its live
 * updates as Server-Sent Events, and the actions. See the README's "The web panel" for the contract.
 *
 * Routes: `GET /` the page (401 with a small sign-in page when no cookie: its `login.js` exchanges the
 * token in the URL's fragment for the cookie), `GET /login.js` (static, the one route open without the
 * token), `GET /panel.js`, `GET /panel.css`, `GET /report.json`, `GET /session` (the token, for the page's
 * POST header), `GET /events`, `POST /session` (token header: sets the cookie), `POST /actions`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { jsonReport } from '../operator/report-json.js';
import type { ReportData } from '../operator/report-rows.js';
import { Guard } from './guard.js';
import { EventHub } from './events.js';
import { panelSettings } from './options.js';
import { runAction, type ActionTarget, type RecordAction } from './actions.js';

/** What the panel needs of an extension. */
export interface PanelTarget extends ActionTarget {
  report(): ReportData;
}

/** A running panel. */
export interface PanelService {
  /** The address that opens the panel signed in: the token rides in the fragment, never sent in a request line. */
  readonly url: string;
  /** The token: as the `X-Extpoint-Token` header it authorizes any request. */
  readonly token: string;
  /** Stops listening and ends every open page's event stream. */
  close(): Promise<void>;
}

/** The most bytes a POST body may have. */
const MAX_BODY = 4096;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'panel.html', type: 'text/html; charset=utf-8' },
  '/panel.js': { file: 'panel.js', type: 'text/javascript; charset=utf-8' },
  '/panel.css': { file: 'panel.css', type: 'text/css; charset=utf-8' },
  '/login.js': { file: 'login.js', type: 'text/javascript; charset=utf-8' },
};

const SIGN_IN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>extpoint panel: sign in</title><script src="/login.js" defer></script></head>
<body><p id="message">Open the panel with the address servePanel() gave (it carries the token after #).</p></body></html>
`;

/** Reads the assets once, from the folder next to this module (src/panel/assets or dist/panel/assets). */
async function loadAssets(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const { file } of Object.values(ASSETS)) out.set(file, await readFile(new URL(`./assets/${file}`, import.meta.url)));
  return out;
}

function answer(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  answer(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** The request's body as JSON; null when it is too long or not JSON. */
async function readJson(req: IncomingMessage): Promise<{ value: unknown } | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return null;
  }
}

/**
 * Serves the web panel for `target`; `record` keeps each action in the extension's history.
 *
 * @throws TypeError (rejects) for bad options; the listen error when the port is taken.
 */
export async function servePanel(target: PanelTarget, options: unknown, record: RecordAction): Promise<PanelService> {
  const settings = panelSettings(options);
  const assets = await loadAssets();
  // Never throws: the timer runs it outside any request, where a throw would end the host.
  const snapshot = () => {
    try {
      return JSON.stringify(jsonReport(target.report()));
    } catch (err) {
      return JSON.stringify({ error: `the report could not be made: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
  const hub = new EventHub(snapshot);
  let guard: Guard | null = null;

  const handle = async (req: IncomingMessage, res: ServerResponse, g: Guard): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!g.knownHost(req)) return answer(res, 403, 'text/plain; charset=utf-8', 'unknown Host header\n');
    if (req.method === 'GET' && path === '/favicon.ico') return answer(res, 204, 'image/x-icon', '');
    if (req.method === 'GET' && path === '/login.js') return answer(res, 200, ASSETS[path]!.type, assets.get('login.js')!);
    if (req.method === 'POST') {
      if (!g.sameOrigin(req)) return answer(res, 403, 'text/plain; charset=utf-8', 'cross-origin request refused\n');
      if (!g.hasToken(req)) return answer(res, 401, 'text/plain; charset=utf-8', 'the X-Extpoint-Token header is missing or wrong\n');
      if (path === '/session') return answer(res, 204, 'text/plain; charset=utf-8', '', { 'set-cookie': g.cookie() });
      if (path !== '/actions') return answer(res, 404, 'text/plain; charset=utf-8', 'no such action route\n');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        return answer(res, 415, 'text/plain; charset=utf-8', 'actions take application/json\n');
      }
      const body = await readJson(req);
      if (body === null) return json(res, 400, { error: `the body must be JSON of at most ${MAX_BODY} bytes` });
      const result = await runAction(target, record, body.value);
      return json(res, result.status, result.body);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'text/plain; charset=utf-8', 'GET or POST only\n', { allow: 'GET, POST' });
    if (!g.authenticated(req)) {
      if (path === '/') return answer(res, 401, 'text/html; charset=utf-8', SIGN_IN_PAGE);
      return answer(res, 401, 'text/plain; charset=utf-8', 'open the panel with the address servePanel() gave\n');
    }
    const asset = ASSETS[path];
    if (asset !== undefined) return answer(res, 200, asset.type, assets.get(asset.file)!);
    if (path === '/report.json') return answer(res, 200, 'application/json; charset=utf-8', snapshot());
    if (path === '/session') return json(res, 200, { token: g.token });
    if (path === '/events' && req.method === 'GET') {
      res.setHeader('cache-control', 'no-store');
      res.setHeader('x-content-type-options', 'nosniff');
      return hub.open(res);
    }
    answer(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res, guard!).catch(() => {
      if (!res.headersSent) answer(res, 500, 'text/plain; charset=utf-8', 'panel error\n');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  guard = new Guard(settings.token, settings.host, port);
  const shownHost = settings.host.includes(':') && !settings.host.startsWith('[') ? `[${settings.host}]` : settings.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}/#token=${settings.token}`,
    token: settings.token,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        hub.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
