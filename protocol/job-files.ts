/**
 * Which files of the jobs folder are jobs, and the names of the files a job writes beside it. One
 * rule, used when the folder is listed at start and by the watcher while serving (docs/DESIGN.md
 * section 2). Paths are handled as text, with `/` as the separator: the job paths here always come
 * from `join(jobsDir, name)`, so they are already normalised.
 */

/** A job's file name: `<name>.job`, not a dotfile (as the shell's `*.job` matches) and not bare `.job`. */
export function isJobFileName(name: string): boolean {
  return name.endsWith('.job') && !name.startsWith('.') && name.length > '.job'.length;
}

/**
 * The one rule: an entry of the jobs folder is a job when it is a regular file (not a folder, a
 * symlink, a FIFO...) with a job's name. `entry` is a `Dirent` or an `lstat` result.
 */
export function isJobFile(name: string, entry: { isFile(): boolean }): boolean {
  return isJobFileName(name) && entry.isFile();
}

/** The folder part of a path with its trailing slash, '' for a bare name. */
function folderOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/') + 1);
}

/** `jobs/a.job` -> `a`. */
export function jobName(jobPath: string): string {
  return jobPath.slice(jobPath.lastIndexOf('/') + 1).replace(/\.job$/, '');
}

/** `jobs/a.job` -> `jobs/a.out`. */
export function outPath(jobPath: string): string {
  return `${folderOf(jobPath)}${jobName(jobPath)}.out`;
}

/** `jobs/a.job`, 2 -> `jobs/a-2.bck`. */
export function backupPath(jobPath: string, n: number): string {
  return `${folderOf(jobPath)}${jobName(jobPath)}-${n}.bck`;
}
