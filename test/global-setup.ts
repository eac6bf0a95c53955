/**
 * Builds dist/ once before any test runs: end-to-end tests run real processes against the built package.
 */
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  cpSync('src/panel/assets', 'dist/panel/assets', { recursive: true }); // as the build script does
}
