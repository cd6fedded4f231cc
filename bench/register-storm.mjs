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

// An interrupted run ends its children with SIGTERM (Kamailio then stops its own workers); the run
// then fails and its cleanup removes the temp directories. A bound keeps a stuck cleanup from hanging.
const { stopAllProcesses } = require('../test/support/process.ts');
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`register-storm: ${signal}, stopping\n`);
    void stopAllProcesses();
    setTimeout(() => process.exit(130), 20_000).unref();
  });
}

const { runRegisterStorm } = require('./lib/register-storm.ts');
const code = await runRegisterStorm(process.argv.slice(2));
process.exitCode = interrupted ? 130 : code;
