// Lists SPEC.md rule IDs that no test under test/ names; exits 1 when any is missing.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const specPath = ['../shared/SPEC.md', 'docs/SPEC.md'].find((p) => existsSync(p));
if (!specPath) {
  console.error('spec:coverage: SPEC.md not found (looked in ../shared and docs/)');
  process.exit(2);
}
const ruleIdPattern = /\b(?:GEN|INV|CFG|REG|M0|M1|M2|FWD|RPL|DRG|LKP|PTH|ERR)-\d+\b/g;
const ids = [...new Set(readFileSync(specPath, 'utf8').match(ruleIdPattern))].sort();

function* testFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* testFiles(path);
    else if (path.endsWith('.test.ts')) yield path;
  }
}
const named = new Set();
for (const file of testFiles('test')) {
  const text = readFileSync(file, 'utf8');
  // A rule counts as tested only where a test or describe title names it.
  for (const m of text.matchAll(/\b(?:it|test|describe)(?:\.each\([^)]*\))?\(\s*[`'"]([^`'"]*)/g)) {
    for (const id of m[1].match(ruleIdPattern) ?? []) named.add(id);
  }
}
const missing = ids.filter((id) => !named.has(id));
if (missing.length > 0) {
  console.log(`SPEC rule IDs named by no test (${missing.length} of ${ids.length}):`);
  console.log(missing.join(' '));
  process.exit(1);
}
console.log(`spec:coverage: all ${ids.length} SPEC rule IDs are named by tests`);
