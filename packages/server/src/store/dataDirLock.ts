/**
 * The embedded store serves one process: PGlite keeps the database in the process's memory and writes
 * its files as it goes, so a second process opening the same folder (a `kassa merchants create` beside a
 * running server) would have its writes overwritten, or overwrite the server's. A lock file holding the
 * owner's pid keeps the second one out with a clear message; one left by a process that died is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'kassa.pid');
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `the embedded store in ${dataDir} is in use by process ${owner} (a running Kassa server). ` +
          'It serves one process: stop that server first, or use PostgreSQL (DATABASE_URL) to share a database. ' +
          `If no Kassa runs on it, delete ${file}.`,
      );
    }
    unlinkSync(file);
  }
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {}
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
