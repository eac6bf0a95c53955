/**
 * Plugin packages for the installer tests: real ones made by `npm pack` in temp folders, and archives
 * built by hand, header by header, for the malicious cases npm pack would never make.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

/** Writes a package folder `dir` with `package.json` fields `pkg` and `files` (path -> text). */
export async function writePackage(dir: string, pkg: Record<string, unknown>, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** Runs `npm pack` on the package folder `dir`, writing the .tgz into `out`; returns its path and integrity. */
export async function npmPack(dir: string, out: string): Promise<{ file: string; integrity: string }> {
  await mkdir(out, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: dir });
  const [info] = JSON.parse(stdout) as { filename: string; integrity: string }[];
  return { file: join(out, info!.filename), integrity: info!.integrity };
}

/** A plugin file serving point host/p with `value`, as CommonJS. */
export const pluginSource = (value: unknown, point = 'p') => `exports.host_${point}_Plugin = () => ${JSON.stringify(value)};\n`;

/** Makes a plugin package `name@version` (one plugin file, `<module>.cjs`) and packs it; returns the .tgz. */
export async function pluginTarball(base: string, name: string, version: string, module: string, body: string): Promise<{ file: string; integrity: string }> {
  const dir = join(base, 'src', `${name}-${version}`);
  await writePackage(dir, { name, version, extpoint: { plugins: [`${module}.cjs`] } }, { [`${module}.cjs`]: body });
  return npmPack(dir, join(base, 'packed'));
}

/** One entry of a hand-built tar archive. */
export interface RawEntry {
  path: string;
  /** The tar type flag: '0' file, '1' hard link, '2' symbolic link, '3' char device, '5' folder, '6' FIFO. */
  type?: string;
  body?: Buffer | string;
  /** The size written in the header (default the body's); a bomb declares what it then sends. */
  size?: number;
  linkpath?: string;
  mode?: number;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** One 512-byte ustar header. */
export function tarHeader(e: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.path, 0, 100, 'utf8');
  h.write(octal(e.mode ?? 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write(e.type ?? '0', 156);
  if (e.linkpath !== undefined) h.write(e.linkpath, 157, 100, 'utf8');
  h.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** A gzipped tar archive of `entries`, built by hand. */
export function rawTarball(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    const size = e.size ?? body.length;
    parts.push(tarHeader(e, size));
    if (size > 0) {
      const padded = Buffer.alloc(Math.ceil(size / 512) * 512);
      body.copy(padded);
      parts.push(padded);
    }
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

/** The package.json and plugin file every hand-built archive carries, so only its bad entry is at fault. */
export function validEntries(name = 'evil'): RawEntry[] {
  return [
    { path: 'package/', type: '5', mode: 0o755 },
    { path: 'package/package.json', body: JSON.stringify({ name, version: '1.0.0', extpoint: { plugins: ['p.cjs'] } }) },
    { path: 'package/p.cjs', body: 'exports.host_p_Plugin = () => 1;\n' },
  ];
}
