/**
 * Every JavaScript example of the README runs, against the built package, in a child process.
 *
 * How the README is read:
 * - Fenced blocks in `js`, `mjs`, `cjs` or `ts` are examples; every other fence language (`sh`, `text`,
 *   none) is not run. A `text` block right after an example is that example's exact output.
 * - A line `// path/file.ext: words` (or just `// path/file.ext`) starts a file of the example; a block
 *   without one is one file. The files of all examples of one README section are written to one temp
 *   folder (a host and its plugin folder are often shown in two blocks), whose `node_modules/extpoint`
 *   is this package.
 * - A file whose header says how to run it (`node [flags] file`) is run exactly so. Otherwise every file
 *   of the block is run with `node file`, after a preamble that defines the values fragments take for
 *   granted (`order`, `cart`).
 * - Examples that serve until stopped are listed in SERVERS: the test waits for what they must show,
 *   sends the signal the example handles, and expects a clean exit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { transformSync } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const RUNNABLE = new Set(['js', 'mjs', 'cjs', 'ts']);
const FILE_HEADER = /^\/\/ ((?:[\w.-]+\/)*[\w.-]+\.(?:m?js|cjs|ts|json))(?::\s*(.*))?$/;

/** A long-running example (told by its code): wait for `ready`, send `signal`, expect exit status 0. */
interface Server {
  code: RegExp;
  ready: { stdout: RegExp } | { file: string };
  signal: NodeJS.Signals;
}
const SERVERS: Server[] = [
  { code: /setInterval\(/, ready: { stdout: /price -> discount=899 tax=1199/ }, signal: 'SIGINT' },
  { code: /serveRepl\(/, ready: { file: 'run/myapp/extpoint.sock' }, signal: 'SIGTERM' },
];
/** Absolute paths in examples that a test cannot use as they are, and the temp-folder paths used instead. */
const PATHS: Array<[string, string]> = [['/run/myapp/', 'run/myapp/']];
/** Packages examples import besides extpoint (its optional peers, an SDK), installed as a user would: linked. */
const ALSO_INSTALLED = ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/context-async-hooks', 'prom-client'];
/** What fragments take for granted. */
const PREAMBLE = `globalThis.order = { id: 7, cents: 999 };\nglobalThis.cart = { items: [{ cents: 999 }] };\n`;

interface Block {
  lang: string;
  code: string;
  line: number;
  section: string;
  output?: string;
}

function readBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) section = line.slice(3);
    const open = /^```(\S*)/.exec(line);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    const block: Block = { lang: open[1]!, code: body.join('\n') + '\n', line: start + 1, section };
    const previous = blocks.at(-1);
    const gap = previous === undefined ? '' : lines.slice(previous.line + previous.code.split('\n').length, start).join('');
    if (block.lang === 'text' && previous !== undefined && RUNNABLE.has(previous.lang) && gap.trim() === '') {
      previous.output = block.code;
    }
    blocks.push(block);
  }
  return blocks;
}

interface ExampleFile {
  path: string;
  code: string;
  /** `node` arguments from the file's header, when it says how to run it. */
  command?: string[];
}

function filesOf(block: Block, n: number): ExampleFile[] {
  const files: ExampleFile[] = [];
  for (const line of block.code.split('\n')) {
    const header = FILE_HEADER.exec(line);
    if (header !== null) {
      const command = /\bnode((?: \S+)*)$/.exec(header[2] ?? '');
      const file: ExampleFile = { path: header[1]!, code: '' };
      const args = command?.[1]!.trim().split(' ') ?? [];
      if (args.at(-1) === header[1]) file.command = args;
      files.push(file);
    }
    if (files.length === 0) files.push({ path: `example-${n}.${block.lang === 'cjs' ? 'cjs' : 'mjs'}`, code: '' });
    files.at(-1)!.code += line + '\n';
  }
  if (block.lang === 'ts') {
    for (const file of files) {
      file.code = transformSync(file.code, { loader: 'ts', format: 'esm' }).code;
      file.path = file.path.replace(/\.ts$/, '.mjs');
    }
  }
  for (const file of files) for (const [from, to] of PATHS) file.code = file.code.replaceAll(from, to);
  return files;
}

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A temp folder per README section, holding the files of all its examples, with extpoint installed. */
function folderFor(section: string, all: Array<{ block: Block; files: ExampleFile[] }>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ep-readme-')));
  folders.push(dir);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'extpoint'), 'dir');
  for (const name of ALSO_INSTALLED) {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-example', private: true, type: 'module' }));
  writeFileSync(join(dir, 'preamble.mjs'), PREAMBLE);
  for (const [, to] of PATHS) mkdirSync(join(dir, to), { recursive: true });
  for (const { block, files } of all) {
    if (block.section !== section) continue;
    for (const file of files) {
      mkdirSync(dirname(join(dir, file.path)), { recursive: true });
      writeFileSync(join(dir, file.path), file.code);
    }
  }
  return dir;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node args` in `cwd`; a server is signalled once ready. Ends by pid (the test kills what it started). */
function runNode(cwd: string, args: string[], server: Server | undefined): Promise<Outcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const signal = () => {
      if (signalled || server === undefined) return;
      signalled = true;
      child.kill(server.signal);
    };
    const poll =
      server !== undefined && 'file' in server.ready
        ? setInterval(() => existsSync(join(cwd, (server.ready as { file: string }).file)) && signal(), 50)
        : undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (server !== undefined && 'stdout' in server.ready && server.ready.stdout.test(stdout)) signal();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', fail);
    child.on('close', (code, sig) => {
      clearTimeout(guard);
      clearInterval(poll);
      done({ code, signal: sig, stdout, stderr });
    });
  });
}

const blocks = readBlocks(README);
const examples = blocks
  .map((block, n) => ({ block, files: RUNNABLE.has(block.lang) ? filesOf(block, n) : [] }))
  .filter((e) => e.files.length > 0);

describe('README examples', () => {
  it('are found, and not-run blocks are marked by their fence language', () => {
    expect(examples.length).toBeGreaterThan(5);
    for (const block of blocks) expect(['js', 'mjs', 'cjs', 'ts', 'sh', 'text', ''], `line ${block.line}`).toContain(block.lang);
  });

  const sectionDirs = new Map<string, string>();
  for (const { block, files } of examples) {
    const commanded = files.filter((f) => f.command !== undefined);
    const runs = (commanded.length > 0 ? commanded : files.filter((f) => !f.path.endsWith('.json'))).map((f) => ({
      args: f.command ?? ['--import', './preamble.mjs', f.path],
      server: SERVERS.find((s) => s.code.test(f.code)),
    }));
    it(`README line ${block.line} (${block.section}): ${files.map((f) => f.path).join(', ')}`, async () => {
      let dir = sectionDirs.get(block.section);
      if (dir === undefined) sectionDirs.set(block.section, (dir = folderFor(block.section, examples)));
      for (const { args, server } of runs) {
        const out = await runNode(dir, args, server);
        expect(out.stderr, `stderr of node ${args.join(' ')}`).toBe('');
        expect(out, `node ${args.join(' ')}`).toMatchObject({ code: 0, signal: null });
        if (block.output !== undefined) expect(out.stdout).toBe(block.output);
      }
    });
  }
});

describe('the first example without --import extpoint/register', () => {
  it('warns once, with a code and the fix, when ES modules cannot be scanned', async () => {
    const first = examples.find((e) => e.files.some((f) => f.command !== undefined))!;
    const dir = folderFor(first.block.section, examples);
    writeFileSync(
      join(dir, 'twice.js'),
      `import { createExtension } from 'extpoint';\nimport './app.js';\nawait createExtension().start();\n`,
    );
    const out = await runNode(dir, ['twice.js'], undefined);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('[]\n');
    const warnings = out.stderr.split('\n').filter((line) => line.includes('EXTPOINT_ESM_UNSCANNED'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('ExtpointWarning');
    expect(out.stderr).toContain('node --import extpoint/register');
    expect(out.stderr).toContain('registerModule');
  });

  it('does not warn when the instance has plugin folders (its plugins come from there)', async () => {
    const dir = folderFor('', []);
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(
      join(dir, 'main.js'),
      `import { extension } from 'extpoint';\nawait extension.start({ pluginDirs: ['./plugins'], watch: false });\nconsole.log('started');\n`,
    );
    const out = await runNode(dir, ['main.js'], undefined);
    expect(out).toMatchObject({ code: 0, stdout: 'started\n', stderr: '' });
  });

  it('does not warn when the main module is CommonJS', async () => {
    const dir = folderFor('', []);
    writeFileSync(join(dir, 'main.cjs'), `require('extpoint').extension.start().then(() => console.log('started'));\n`);
    const out = await runNode(dir, ['main.cjs'], undefined);
    expect(out).toMatchObject({ code: 0, stdout: 'started\n', stderr: '' });
  });
});
