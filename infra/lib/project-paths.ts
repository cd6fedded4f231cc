/**
 * Paths of the repository that the CDK app builds from (Lambda entries, lock file, Docker context).
 * Resolved from this file's location so `cdk synth` works from any working directory.
 */
import * as path from 'node:path';

/** The repository root: the Docker build context and the esbuild project root. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Absolute path of a file given relative to the repository root. */
export function projectPath(relative: string): string {
  return path.join(PROJECT_ROOT, relative);
}
