/**
 * The installer on local sources: real tarballs made by npm pack and package folders, installed into a
 * temp folder; integrity, allowed sources, versions, protected names, the manifest; and malicious
 * archives, refused with nothing written outside staging and no staging left behind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { install, listInstalled, uninstall, MANIFEST, isInstallError } from '../src/install/index.js';
import { npmPack, pluginSource, pluginTarball, rawTarball, tarHeader, validEntries, writePackage, type RawEntry } from './helpers/packages.js';

let base: string;
let dir: string;
const allow = ['file:'];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-install-'));
  dir = join(base, 'plugins');
  await mkdir(dir);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Everything below `root`, as relative paths, sorted. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) out.push(join(e.parentPath, e.name).slice(root.length + 1));
  return out.sort();
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('install from local sources', () => {
  it('installs a tarball made by npm pack as DIR/<name>/ and records it in the manifest', async () => {
    const { file, integrity } = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    const result = await install(file, { dir, allow, integrity });
    expect(result.replaced).toBeNull();
    expect(result.installed).toMatchObject({ name: 'audit-plugin', version: '1.0.0', integrity, folder: 'audit-plugin', plugins: ['audit.cjs'] });
    expect(await readFile(join(dir, 'audit-plugin', 'audit.cjs'), 'utf8')).toBe(pluginSource('v1'));
    expect(await tree(dir)).toEqual([MANIFEST, 'audit-plugin', 'audit-plugin/audit.cjs', 'audit-plugin/package.json']);
    const [listed] = await listInstalled({ dir });
    expect(listed).toMatchObject({ name: 'audit-plugin', version: '1.0.0', integrity, source: `file:${file}` });
    expect(Number.isNaN(Date.parse(listed!.time))).toBe(false);
  });

  it('installs a package folder, using main when there is no extpoint.plugins, and drops group/world write bits', async () => {
    const src = await writePackage(join(base, 'folder-pkg'), { name: '@acme/tools', version: '2.1.0', main: 'lib/tools.cjs' }, { 'lib/tools.cjs': pluginSource('tools') });
    const { chmod } = await import('node:fs/promises');
    await chmod(join(src, 'lib', 'tools.cjs'), 0o666);
    const { installed } = await install(src, { dir, allow });
    expect(installed).toMatchObject({ name: '@acme/tools', folder: '@acme+tools', plugins: ['lib/tools.cjs'], integrity: null });
    const mode = (await stat(join(dir, '@acme+tools', 'lib', 'tools.cjs'))).mode & 0o777;
    expect(mode & 0o022).toBe(0);
  });

  it('refuses a source that is not allowed, and an integrity mismatch, changing nothing', async () => {
    const { file } = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    const denied = await rejection(install(file, { dir, allow: [] }));
    expect(denied.code).toBe('ENOTALLOWED');
    expect(denied.message).toMatch(/not an allowed source.*--allow.*"file:"/);
    const elsewhere = await rejection(install(file, { dir, allow: [`file:${join(base, 'nowhere')}`] }));
    expect(elsewhere.code).toBe('ENOTALLOWED');
    const wrong = await rejection(install(file, { dir, allow, integrity: 'sha512-' + Buffer.alloc(64).toString('base64') }));
    expect(wrong.code).toBe('EINTEGRITY');
    expect(wrong.message).toMatch(/has integrity sha512-.*not the expected/);
    expect(await tree(dir)).toEqual([]);
  });

  it('upgrades only to a higher version unless forced, and keeps protected names', async () => {
    const v1 = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    const v2 = await pluginTarball(base, 'audit-plugin', '1.2.0', 'audit', pluginSource('v2'));
    await install(v2.file, { dir, allow });
    const down = await rejection(install(v1.file, { dir, allow }));
    expect(down.code).toBe('EVERSION');
    expect(down.message).toMatch(/1\.0\.0 is not newer than the installed 1\.2\.0.*force/);
    const again = await rejection(install(v2.file, { dir, allow }));
    expect(again.code).toBe('EVERSION');
    const forced = await install(v1.file, { dir, allow, force: true });
    expect(forced.replaced).toBe('1.2.0');
    expect(await readFile(join(dir, 'audit-plugin', 'audit.cjs'), 'utf8')).toBe(pluginSource('v1'));

    const kept = await rejection(install(v2.file, { dir, allow, protected: ['audit'] }));
    expect(kept.code).toBe('EPROTECTED');
    const notRemoved = await rejection(uninstall('audit-plugin', { dir, protected: ['audit-plugin'] }));
    expect(notRemoved.code).toBe('EPROTECTED');
    expect((await listInstalled({ dir })).map((p) => p.version)).toEqual(['1.0.0']);
    expect(await tree(dir)).toContain('audit-plugin/audit.cjs');
  });

  it('uninstalls: the folder and the manifest entry go; an unknown name is a clear error', async () => {
    const { file } = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    await install(file, { dir, allow });
    const removed = await uninstall('audit-plugin', { dir });
    expect(removed.version).toBe('1.0.0');
    expect(await tree(dir)).toEqual([MANIFEST]);
    expect(await listInstalled({ dir })).toEqual([]);
    const missing = await rejection(uninstall('audit-plugin', { dir }));
    expect(missing.code).toBe('ENOTINSTALLED');
  });

  it('refuses a package that names no plugin file, or a plugin file it does not hold', async () => {
    const none = await writePackage(join(base, 'none'), { name: 'none', version: '1.0.0' }, { 'x.cjs': pluginSource(1) });
    expect((await rejection(install(none, { dir, allow }))).message).toMatch(/names no plugin files: add "extpoint": \{ "plugins"/);
    const absent = await writePackage(join(base, 'absent'), { name: 'absent', version: '1.0.0', extpoint: { plugins: ['gone.cjs'] } }, { 'x.cjs': pluginSource(1) });
    expect((await rejection(install(absent, { dir, allow }))).message).toMatch(/"gone\.cjs", which is not a file in the package/);
    expect(await tree(dir)).toEqual([]);
  });

  it('never runs install scripts', async () => {
    const marker = join(base, 'script-ran');
    const src = await writePackage(
      join(base, 'scripted'),
      { name: 'scripted', version: '1.0.0', main: 'p.cjs', scripts: { preinstall: `node -e "require('fs').writeFileSync('${marker}', '')"`, install: `touch ${marker}`, postinstall: `touch ${marker}` } },
      { 'p.cjs': pluginSource(1) },
    );
    const { file } = await npmPack(src, join(base, 'packed'));
    await install(file, { dir, allow });
    await install(src, { dir, allow, force: true });
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
  });
});

describe('malicious archives', () => {
  async function refuses(entries: RawEntry[] | Buffer, code: string, message: RegExp): Promise<void> {
    const archive = join(base, 'evil.tgz');
    await writeFile(archive, Buffer.isBuffer(entries) ? entries : rawTarball(entries));
    const before = await tree(base);
    const err = await rejection(install(archive, { dir, allow }));
    expect(isInstallError(err)).toBe(true);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(await tree(base)).toEqual(before); // nothing written anywhere, staging gone
  }

  it('refuses path traversal', async () => {
    await refuses([...validEntries(), { path: 'package/../../escaped.txt', body: 'x' }], 'EUNSAFEENTRY', /"package\/\.\.\/\.\.\/escaped\.txt".*climbs out/);
  });

  it('refuses an absolute path', async () => {
    await refuses([...validEntries(), { path: join(base, 'absolute.txt'), body: 'x' }], 'EUNSAFEENTRY', /its path is absolute/);
  });

  it('refuses symbolic links that point out', async () => {
    await refuses([...validEntries(), { path: 'package/up', type: '2', linkpath: '../../..' }], 'EUNSAFEENTRY', /link that climbs out/);
    await refuses([...validEntries(), { path: 'package/etc', type: '2', linkpath: '/etc' }], 'EUNSAFEENTRY', /link to the absolute path "\/etc"/);
    // Through a link to the package root, ".." would leave the package: links may only point down.
    await refuses(
      [...validEntries(), { path: 'package/self', type: '2', linkpath: '.' }, { path: 'package/out', type: '2', linkpath: 'self/..' }],
      'EUNSAFEENTRY',
      /"package\/out".*climbs out/,
    );
  });

  it('refuses hard links that point out', async () => {
    await refuses([...validEntries(), { path: 'package/passwd', type: '1', linkpath: '/etc/passwd' }], 'EUNSAFEENTRY', /absolute path "\/etc\/passwd"/);
    await refuses([...validEntries(), { path: 'package/x', type: '1', linkpath: 'package/../../x' }], 'EUNSAFEENTRY', /climbs out/);
  });

  it('refuses a FIFO and a device file', async () => {
    await refuses([...validEntries(), { path: 'package/pipe', type: '6' }], 'EUNSAFEENTRY', /of type FIFO.*no devices, FIFOs/);
    await refuses([...validEntries(), { path: 'package/tty', type: '3' }], 'EUNSAFEENTRY', /of type CharacterDevice/);
  });

  it('refuses a decompression bomb without unpacking it', async () => {
    // A few hundred kilobytes that would unpack to 200 MiB of zeros.
    const size = 200 * 1024 * 1024;
    const raw = Buffer.alloc(512 + size + 1024);
    tarHeader({ path: 'package/zeros.bin' }, size).copy(raw, 0);
    const bomb = gzipSync(raw, { level: 9 });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await refuses(bomb, 'ETOOLARGE', /unpacks to more than 67108864 bytes.*decompression bomb.*limits\.maxBytes/);
  });

  it('refuses a huge entry count', async () => {
    const many: RawEntry[] = [...validEntries()];
    for (let i = 0; i < 10_001; i++) many.push({ path: `package/f${i}.txt` });
    await refuses(many, 'ETOOLARGE', /more than 10000 entries.*limits\.maxEntries/);
  });

  it('refuses a folder source holding a FIFO or a link out', async () => {
    const { execFileSync } = await import('node:child_process');
    const src = await writePackage(join(base, 'fifo-pkg'), { name: 'fifo-pkg', version: '1.0.0', main: 'p.cjs' }, { 'p.cjs': pluginSource(1) });
    execFileSync('mkfifo', [join(src, 'pipe')]);
    const err = await rejection(install(src, { dir, allow }));
    expect(err.code).toBe('EUNSAFEENTRY');
    expect(await tree(dir)).toEqual([]);
    await rm(join(src, 'pipe'));
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/passwd', join(src, 'passwd'));
    expect((await rejection(install(src, { dir, allow }))).code).toBe('EUNSAFEENTRY');
    expect(await tree(dir)).toEqual([]);
    expect((await lstat(src)).isDirectory()).toBe(true);
  });
});
