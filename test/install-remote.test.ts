/**
 * Remote sources: an https tarball URL served by a loopback node:https server with a self-signed
 * certificate the test trusts (made with openssl in the temp folder), and a registry spec fetched with
 * pacote from a loopback registry. Fail-closed: not allowed, or unpinned, is refused before any fetch.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { install, listInstalled } from '../src/install/index.js';
import { pluginSource, pluginTarball } from './helpers/packages.js';
import { runNode } from './helpers/run-node.js';

const CLI = resolve('dist/cli.js');
let base: string;
let dir: string;
let server: HttpsServer | HttpServer | null = null;
const requests: string[] = [];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-install-remote-'));
  dir = join(base, 'plugins');
  await mkdir(dir);
  requests.length = 0;
});
afterEach(async () => {
  await new Promise((done) => (server === null ? done(undefined) : server.close(done)));
  server = null;
  await rm(base, { recursive: true, force: true });
});

/** A self-signed certificate for 127.0.0.1, made with openssl in the temp folder. */
function selfSigned(): { key: Buffer; cert: Buffer; certFile: string } {
  const keyFile = join(base, 'key.pem');
  const certFile = join(base, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { key: execFileSync('cat', [keyFile]), cert: execFileSync('cat', [certFile]), certFile };
}

/** Serves `files` (URL path -> bytes) over https on a loopback port; returns the base URL. */
async function serveHttps(tls: { key: Buffer; cert: Buffer }, files: Record<string, Buffer>): Promise<string> {
  const s = createHttpsServer(tls, (req, res) => {
    requests.push(req.url ?? '');
    const body = files[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  server = s;
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', done));
  return `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('https tarball URLs', () => {
  it('installs from a loopback https server whose certificate the caller trusts, pinned by integrity', async () => {
    const tls = selfSigned();
    const { file, integrity } = await pluginTarball(base, 'remote-plugin', '1.0.0', 'remote', pluginSource('remote'));
    const url = await serveHttps(tls, { '/pkgs/remote-plugin-1.0.0.tgz': await readFile(file) });
    const spec = `${url}/pkgs/remote-plugin-1.0.0.tgz`;

    // Not allowed, or unpinned: refused before anything is fetched.
    await expect(install(spec, { dir, allow: ['file:'], ca: tls.cert, integrity })).rejects.toMatchObject({ code: 'ENOTALLOWED' });
    await expect(install(spec, { dir, allow: [`${url}/pkgs/`], ca: tls.cert })).rejects.toMatchObject({
      code: 'ENOTALLOWED',
      message: expect.stringMatching(/no integrity pin.*--integrity.*--allow-unpinned/),
    });
    // Without trusting the certificate, the fetch fails.
    await expect(install(spec, { dir, allow: [`${url}/pkgs/`], integrity })).rejects.toMatchObject({ message: expect.stringMatching(/self-signed|certificate/) });
    // A prefix allows its own origin and path only: not a host that merely starts with the same text.
    const port = new URL(url).port;
    await expect(install(spec, { dir, allow: [`https://127.0.0.1:${port.slice(0, -1)}`], ca: tls.cert, integrity })).rejects.toMatchObject({ code: 'ENOTALLOWED' });
    await expect(install(spec, { dir, allow: [`${url}/pk`], ca: tls.cert, integrity })).rejects.toMatchObject({ code: 'ENOTALLOWED' });
    expect(requests).toEqual([]);
    expect(await readdir(dir)).toEqual([]);

    const { installed } = await install(spec, { dir, allow: [`${url}/pkgs/`], ca: tls.cert, integrity });
    expect(installed).toMatchObject({ name: 'remote-plugin', version: '1.0.0', integrity, source: spec });
    expect(await readFile(join(dir, 'remote-plugin', 'remote.cjs'), 'utf8')).toBe(pluginSource('remote'));
  });

  it('refuses a tampered download by its integrity, changing nothing', async () => {
    const tls = selfSigned();
    const good = await pluginTarball(base, 'remote-plugin', '1.0.0', 'remote', pluginSource('good'));
    const evil = await pluginTarball(base, 'remote-plugin', '1.0.1', 'remote', pluginSource('evil'));
    const url = await serveHttps(tls, { '/remote.tgz': await readFile(evil.file) });
    const err = await install(`${url}/remote.tgz`, { dir, allow: [url], ca: tls.cert, integrity: good.integrity }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'EINTEGRITY' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('installs from the CLI, the certificate trusted through NODE_EXTRA_CA_CERTS', async () => {
    const tls = selfSigned();
    const { file } = await pluginTarball(base, 'remote-plugin', '1.0.0', 'remote', pluginSource('remote'));
    const url = await serveHttps(tls, { '/remote.tgz': await readFile(file) });
    const env = { NODE_EXTRA_CA_CERTS: tls.certFile };
    const refused = await runNode([CLI, 'install', `${url}/remote.tgz`, '--dir', dir, '--allow', url], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no integrity pin/);
    const run = await runNode([CLI, 'install', `${url}/remote.tgz`, '--dir', dir, '--allow', url, '--allow-unpinned'], { env });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^installed remote-plugin@1\.0\.0 /);
    expect((await listInstalled({ dir })).map((p) => p.source)).toEqual([`${url}/remote.tgz`]);
  });
});

describe('registry specs', () => {
  it('fetches name@version with pacote from the configured registry, pinned, and runs no script', async () => {
    const marker = join(base, 'script-ran');
    const { file, integrity } = await pluginTarball(base, 'reg-plugin', '1.2.3', 'reg', pluginSource('from registry'));
    const tarball = await readFile(file);
    const s = createHttpServer((req, res) => {
      requests.push(req.url ?? '');
      const origin = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      if (req.url === '/reg-plugin') {
        const version = { name: 'reg-plugin', version: '1.2.3', scripts: { install: `touch ${marker}` }, dist: { tarball: `${origin}/reg-plugin/-/reg-plugin-1.2.3.tgz`, integrity } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'reg-plugin', 'dist-tags': { latest: '1.2.3' }, versions: { '1.2.3': version } }));
      } else if (req.url === '/reg-plugin/-/reg-plugin-1.2.3.tgz') res.writeHead(200).end(tarball);
      else res.writeHead(404).end();
    });
    server = s;
    await new Promise<void>((done) => s.listen(0, '127.0.0.1', done));
    const env = { npm_config_registry: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, npm_config_cache: join(base, 'npm-cache') };

    const denied = await runNode([CLI, 'install', 'reg-plugin@1.2.3', '--dir', dir, '--allow', 'file:', '--integrity', integrity], { env });
    expect(denied.stderr).toMatch(/registry spec "reg-plugin@1\.2\.3" is not an allowed source/);
    expect(requests).toEqual([]);

    const run = await runNode([CLI, 'install', 'reg-plugin@1.2.3', '--dir', dir, '--allow', 'registry', '--integrity', integrity], { env });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^installed reg-plugin@1\.2\.3 /);
    expect(await readFile(join(dir, 'reg-plugin', 'reg.cjs'), 'utf8')).toBe(pluginSource('from registry'));
    expect((await listInstalled({ dir }))[0]).toMatchObject({ name: 'reg-plugin', integrity, source: 'reg-plugin@1.2.3' });
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });
});
