/**
 * How real editors, tools and sync clients save a file, as the plain fs sequences they perform
 * (reliability.md §a7). Each takes the file and the new content it saves.
 */
import fs from 'node:fs';
import path from 'node:path';

type Save = (file: string, content: string) => void;

/** vim default (backupcopy=auto): probe file, rename the original to `f~`, write a new file, delete the backup. */
const vimRenameSave: Save = (file, content) => {
  const probe = path.join(path.dirname(file), '4913');
  fs.writeFileSync(probe, '');
  fs.unlinkSync(probe);
  fs.renameSync(file, `${file}~`);
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.unlinkSync(`${file}~`);
};

/** vim backupcopy=yes: copy to `f~`, truncate and rewrite the same inode. */
const vimCopySave: Save = (file, content) => {
  fs.copyFileSync(file, `${file}~`);
  fs.writeFileSync(file, content);
  fs.unlinkSync(`${file}~`);
};

/** VS Code (regular files): truncate to 0, then write, on the same inode. */
const vscodeTruncateSave: Save = (file, content) => {
  const fd = fs.openSync(file, 'r+');
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, content, 0);
  fs.closeSync(fd);
};

/** Emacs first save: lock symlink `.#f` (dangling), rename the original to `f~`, write a new file. */
const emacsFirstSave: Save = (file, content) => {
  const lock = path.join(path.dirname(file), `.#${path.basename(file)}`);
  fs.symlinkSync('user@host.4242:1700000000', lock);
  fs.renameSync(file, `${file}~`);
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.unlinkSync(lock);
};

/** sed -i / perl -i: write `./sedXXXXXX` and rename it over the file. */
const sedInPlace: Save = (file, content) => {
  const temp = path.join(path.dirname(file), `sed${Math.random().toString(36).slice(2, 8)}`);
  fs.writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
  fs.renameSync(temp, file);
};

/** JetBrains safe write: write `f___jb_tmp___`, rename f → `f___jb_old___`, tmp → f, delete old. */
const jetbrainsSafeWrite: Save = (file, content) => {
  fs.writeFileSync(`${file}___jb_tmp___`, content, { mode: 0o600 });
  fs.renameSync(file, `${file}___jb_old___`);
  fs.renameSync(`${file}___jb_tmp___`, file);
  fs.unlinkSync(`${file}___jb_old___`);
};

/** Syncthing pulling a remote version: download to `.syncthing.f.tmp`, rename over. */
const syncthingReplace: Save = (file, content) => {
  const temp = path.join(path.dirname(file), `.syncthing.${path.basename(file)}.tmp`);
  fs.writeFileSync(temp, content, { mode: 0o600 });
  fs.renameSync(temp, file);
};

/** Every save pattern, by name. */
export const EDITORS: Readonly<Record<string, Save>> = {
  vimRenameSave,
  vimCopySave,
  vscodeTruncateSave,
  emacsFirstSave,
  sedInPlace,
  jetbrainsSafeWrite,
  syncthingReplace,
};
