// `npm run bench`: the REGISTER-storm benchmark (bench/lib/register-storm.ts).
//
// The benchmark reuses the TypeScript test harness (test/support: ports, processes, SIPp, Kamailio),
// which finds its templates and scenarios through __dirname, so it is not bundled: this launcher
// compiles each .ts file as Node requires it, with esbuild's transform (a core dependency), and keeps
// every module at its own path.
import { transformSync } from 'esbuild';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';

Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
  });
  module._compile(code, filename);
};

const require = createRequire(import.meta.url);
const { runRegisterStorm } = require('./lib/register-storm.ts');
process.exitCode = await runRegisterStorm(process.argv.slice(2));
