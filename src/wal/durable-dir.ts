// Creating a directory durably: mkdir makes an entry in the parent directory, and that entry is
// only on disk once the parent is fsynced. Without it a power cut can take a fresh snapshot or WAL
// directory away together with files that were themselves synced.
import { dirName, pathExists, type FileSystem } from '../base/fs.js';

/** Creates `dir` and any missing parents, then syncs the parent of each directory it created. */
export async function mkdirDurable(fs: FileSystem, dir: string): Promise<void> {
  const missing: string[] = [];
  let at = dir.replace(/\/+$/, '') || '/';
  while (!(await pathExists(fs, at))) {
    missing.push(at);
    const up = dirName(at);
    if (up === at) break;
    at = up;
  }
  if (missing.length === 0) return;
  await fs.mkdirp(dir);
  for (let i = missing.length - 1; i >= 0; i--) await fs.syncDir(dirName(missing[i]!));
}
