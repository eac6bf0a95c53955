/**
 * The default state store: one JSON file, replaced atomically. A write goes to a temporary file in the
 * same folder, is `fsync`ed, renamed over the old file, and the folder is `fsync`ed, so that after a crash
 * the file is either the old document or the new one, never a mix. The file is mode 0600 and, like a
 * plugin file, refused when it is world-writable or owned by another user.
 */
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { PermissionCheck } from '../modules/permissions.js';
import { LockFile } from './lock-file.js';
import { parseSnapshot, SnapshotError, type StateSnapshot } from './snapshot.js';
import { StateError, type StateStore } from './store.js';

export interface FileStoreOptions {
  /** Refuse a loose state file (world-writable, or another user's). Default true. */
  checkPermissions?: boolean;
  /** What a bad file does: `reject` start (the default), or `backup` (move it aside and start fresh). */
  onCorrupt?: 'reject' | 'backup';
  /** Told when a bad file was moved aside. */
  movedAside?: (message: string) => void;
}

export class FileStore implements StateStore {
  readonly where: string;
  private readonly lockFile: LockFile;
  private readonly permissions: PermissionCheck | null;
  private seq = 0;

  constructor(
    file: string,
    private readonly options: FileStoreOptions = {},
  ) {
    this.where = resolve(file);
    this.lockFile = new LockFile(`${this.where}.lock`);
    this.permissions = options.checkPermissions === false ? null : new PermissionCheck();
  }

  async lock(): Promise<void> {
    this.lockFile.take(this.where);
  }

  async load(): Promise<StateSnapshot | null> {
    let text: string;
    try {
      const stats = lstatSync(this.where);
      const loose = this.permissions?.looseness('state file', this.where, stats) ?? null;
      if (loose !== null) throw new StateError('ESTATEPERM', loose);
      if (!stats.isFile()) throw this.corrupt('it is not a regular file');
      text = readFileSync(this.where, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (err instanceof StateError) {
        if (err.code === 'ESTATECORRUPT') return this.badFile(err);
        throw err;
      }
      throw new StateError('ESTATEIO', `cannot read state file ${this.where}: ${(err as Error).message}`);
    }
    try {
      if (text.trim() === '') throw new SnapshotError('the file is empty');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new SnapshotError(`it is not valid JSON (${(err as Error).message}); it may have been cut short`);
      }
      return parseSnapshot(json);
    } catch (err) {
      if (err instanceof SnapshotError) return this.badFile(this.corrupt(err.message));
      throw err;
    }
  }

  write(snapshot: StateSnapshot, durable: boolean): void {
    const text = JSON.stringify(snapshot, null, 1) + '\n';
    const tmp = `${dirname(this.where)}/.${basename(this.where)}.${process.pid}.${++this.seq}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, text);
        if (durable) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.where);
      if (durable) syncFolder(dirname(this.where));
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
      throw new StateError('ESTATEIO', `cannot write state file ${this.where}: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.lockFile.release();
  }

  private corrupt(what: string): StateError {
    return new StateError(
      'ESTATECORRUPT',
      `state file ${this.where} cannot be used: ${what}. Nothing was overwritten. Fix or remove the file, ` +
        `or start with onCorruptState: 'backup' to move it aside and start fresh`,
    );
  }

  /** A bad file: rejected, or moved aside for a fresh start. */
  private badFile(err: StateError): null {
    if (this.options.onCorrupt !== 'backup') throw err;
    const aside = `${this.where}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.where, aside);
    } catch (moveErr) {
      throw new StateError('ESTATEIO', `${err.message}; moving it aside to ${aside} failed: ${(moveErr as Error).message}`);
    }
    this.options.movedAside?.(`${err.message.split('. Nothing was overwritten')[0]}; moved aside to ${aside}, starting fresh`);
    return null;
  }
}

/** Makes a rename in `dir` durable. */
function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
