// Bundles the runnable entry points with esbuild (a core dependency): one JS file each under dist/.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entries = {
  main: 'sip-gateway/src/main.ts',
  'bench-codec': 'bench/codec.ts',
  'bench-deregister': 'bench/deregister-delay.ts',
};
const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));
await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
});
