// CDK app launcher (cdk.json "app"): runs infra/bin/app.ts without ts-node. Each .ts file is transpiled on
// require with esbuild's transformSync (esbuild is already a dependency), so __dirname and relative imports
// behave as in the source tree and the same modules that `npm start` uses (functions/core/config.ts) load.
// Type-checking stays with `tsc --noEmit`; this launcher only strips types.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { transformSync } = require('esbuild');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: filename,
  });
  module._compile(code, filename);
};

require(path.join(__dirname, '..', 'infra', 'bin', 'app.ts'));
