/**
 * Where a package comes from: a spec is a local tarball or folder (`file:` or a path), an `https` tarball
 * URL or a registry spec (`name@version`). Sources are fail-closed: only those the caller allows are
 * used, and a remote one needs an integrity pin unless unpinned installs are allowed. The archive's bytes
 * are read once, into memory, and everything after (integrity, checks, extraction) works on those bytes.
 */
import { readFile, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { resolve, sep } from 'node:path';
import { installError } from './errors.js';
import { printable } from './limits.js';

/** A spec, classified. */
export type Source =
  | { kind: 'tarball' | 'folder'; path: string; spec: string }
  | { kind: 'url'; url: string; spec: string }
  | { kind: 'registry'; spec: string };

const ALLOW_HELP =
  `allow it with --allow (option allow): "file:" for local tarballs and folders (or "file:/some/folder/" for those ` +
  `below it), "registry" for registry specs, or an https URL prefix such as "https://example.com/plugins/"`;

/** Checks that each allowed source is one of the forms the installer knows. */
export function checkAllow(allow: unknown): string[] {
  if (!Array.isArray(allow) || !allow.every((a) => typeof a === 'string')) {
    throw new TypeError(`extpoint install: option allow must be an array of sources; ${ALLOW_HELP}`);
  }
  for (const a of allow) {
    if (a !== 'registry' && !a.startsWith('file:') && !a.startsWith('https://')) {
      throw new TypeError(`extpoint install: allowed source "${printable(a)}" is not one the installer knows; ${ALLOW_HELP}`);
    }
  }
  return allow as string[];
}

/** What `spec` names. Local paths are resolved against the current folder. */
export async function classify(spec: string): Promise<Source> {
  if (typeof spec !== 'string' || spec === '') throw new TypeError('extpoint install: give a package spec: a .tgz file, a folder, name@version or an https URL');
  if (spec.startsWith('https://')) return { kind: 'url', url: spec, spec };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) && !spec.startsWith('file:')) {
    throw installError('ENOTALLOWED', `the source "${printable(spec)}" is neither https nor a local path; only https URLs are fetched (plain http can be altered on the way)`);
  }
  const local = spec.startsWith('file:') ? spec.slice(5) : spec;
  const looksLocal = spec.startsWith('file:') || /^(\.{0,2}[\\/]|[a-zA-Z]:)/.test(spec) || /\.(tgz|tar\.gz|tar)$/.test(spec);
  try {
    const path = resolve(local);
    const stats = await stat(path);
    return { kind: stats.isDirectory() ? 'folder' : 'tarball', path, spec };
  } catch (err) {
    if (looksLocal) throw installError('EBADPACKAGE', `cannot read "${printable(spec)}" (${(err as Error).message}); give the path of a .tgz from npm pack or of a package folder`, err);
  }
  return { kind: 'registry', spec };
}

/** Throws ENOTALLOWED unless `source` is allowed, or is remote, unpinned and unpinned installs are not allowed. */
export function checkAllowed(source: Source, allow: string[], pinned: boolean, allowUnpinned: boolean): void {
  let allowed: boolean;
  if (source.kind === 'registry') allowed = allow.includes('registry');
  else if (source.kind === 'url') allowed = allow.some((a) => a.startsWith('https://') && urlUnder(source.url, a));
  else {
    allowed = allow.some((a) => {
      if (!a.startsWith('file:')) return false;
      const prefix = a.slice(5);
      if (prefix === '') return true;
      const base = resolve(prefix);
      return source.path === base || source.path.startsWith(base.endsWith(sep) ? base : base + sep);
    });
  }
  if (!allowed) {
    const what = source.kind === 'registry' ? 'registry spec' : source.kind === 'url' ? 'URL' : `local ${source.kind}`;
    throw installError('ENOTALLOWED', `the ${what} "${printable(source.spec)}" is not an allowed source; ${ALLOW_HELP}`);
  }
  if ((source.kind === 'registry' || source.kind === 'url') && !pinned && !allowUnpinned) {
    throw installError(
      'ENOTALLOWED',
      `"${printable(source.spec)}" is remote and has no integrity pin, so what arrives cannot be checked; give --integrity ` +
        `(option integrity, e.g. from npm view PKG dist.integrity), or --allow-unpinned (option allowUnpinned) to accept it unchecked`,
    );
  }
}

/**
 * True when `url` is below the allowed prefix `prefix`: the same origin (scheme, host and port, so that
 * "https://example.com" does not allow "https://example.com.evil.org"), and a path that starts with the
 * prefix's path.
 */
function urlUnder(url: string, prefix: string): boolean {
  let u: URL;
  let p: URL;
  try {
    u = new URL(url);
    p = new URL(prefix);
  } catch {
    return false;
  }
  if (u.origin !== p.origin || u.username !== '' || u.password !== '') return false;
  const base = p.pathname.endsWith('/') ? p.pathname : `${p.pathname}/`;
  return p.pathname === '/' || u.pathname === p.pathname || u.pathname.startsWith(base);
}

/** The archive's bytes for a tarball, URL or registry source, at most `maxBytes`. */
export async function archiveBytes(source: Source, maxBytes: number, options: { ca?: string | Buffer; registry?: string }): Promise<Buffer> {
  switch (source.kind) {
    case 'tarball': {
      const size = (await stat(source.path)).size;
      if (size > maxBytes) throw installError('ETOOLARGE', `${source.spec} is ${size} bytes, more than limits.maxBytes (${maxBytes}); raise the limit if it is genuine`);
      return readFile(source.path);
    }
    case 'url':
      return download(source.url, maxBytes, options.ca);
    case 'registry': {
      // pacote is an optional peer dependency, loaded only for registry installs: it is large. It only
      // fetches the tarball here; the tarball then goes through the same checks, and no script runs.
      let pacote: typeof import('pacote');
      try {
        const mod = (await import('pacote')) as typeof import('pacote') & { default?: typeof import('pacote') };
        pacote = mod.default ?? mod; // CommonJS: its functions are on the default export
      } catch (err) {
        throw installError('EBADPACKAGE', `installing "${printable(source.spec)}" from the registry needs the package pacote: npm install pacote`, err);
      }
      try {
        const registry = options.registry ?? process.env.npm_config_registry;
        const cache = process.env.npm_config_cache;
        const bytes = await pacote.tarball(source.spec, {
          ignoreScripts: true,
          ...(registry === undefined ? {} : { registry }),
          ...(cache === undefined ? {} : { cache }),
        });
        if (bytes.length > maxBytes) throw installError('ETOOLARGE', `${printable(source.spec)} is ${bytes.length} bytes, more than limits.maxBytes (${maxBytes})`);
        return bytes;
      } catch (err) {
        if ((err as { code?: string }).code === 'ETOOLARGE') throw err;
        throw installError('EBADPACKAGE', `cannot fetch "${printable(source.spec)}" from the registry (${(err as Error).message}); check the name and version`, err);
      }
    }
    case 'folder':
      throw new Error('extpoint install: a folder has no archive');
  }
}

/** GETs `url` over https (no redirects followed), at most `maxBytes`. */
function download(url: string, maxBytes: number, ca: string | Buffer | undefined): Promise<Buffer> {
  return new Promise((done, fail) => {
    const req = request(url, { method: 'GET', ...(ca === undefined ? {} : { ca }), timeout: 60_000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        const where = res.headers.location === undefined ? '' : ` (it points to ${printable(res.headers.location)}; give that URL instead)`;
        fail(installError('EBADPACKAGE', `GET ${printable(url)} answered ${res.statusCode}${where}; give the URL of the .tgz itself`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          fail(installError('ETOOLARGE', `${printable(url)} sends more than limits.maxBytes (${maxBytes}) bytes; raise the limit if it is genuine`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => done(Buffer.concat(chunks)));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 60 seconds')));
    req.on('error', (err) => fail(installError('EBADPACKAGE', `cannot fetch ${printable(url)} (${err.message}); check the URL and the server's certificate`, err)));
    req.end();
  });
}
