// Enforces DESIGN §2: a folder may import only the layers beneath it. Reads every .ts file under
// src/, sim/ and bench/, resolves relative imports to a layer, and fails on any import the table
// below does not allow. src/raft is also held to purity: no node:* imports at all; in sim/ only the
// command-line entry (sim/main.ts) may use node:*.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';

const allowed = {
  'src/base': [],
  'src/generated': ['src/base'],
  'src/raft': ['src/base', 'src/generated'],
  'src/wal': ['src/base', 'src/generated', 'src/raft'],
  'src/backend': ['src/base'],
  'src/mvcc': ['src/base', 'src/backend', 'src/generated'],
  'src/lease': ['src/base', 'src/backend', 'src/generated'],
  'src/auth': ['src/base', 'src/backend', 'src/generated'],
  'src/server': [
    'src/base',
    'src/generated',
    'src/raft',
    'src/wal',
    'src/backend',
    'src/mvcc',
    'src/lease',
    'src/auth',
  ],
  'src/transport': ['src/base', 'src/generated', 'src/raft', 'src/server'],
  'src/api/grpc': ['src/base', 'src/generated', 'src/server'],
  'src/api/http': ['src/base', 'src/generated', 'src/server'],
  'src/platform': ['src/base'],
  'src/cli': null,
  sim: [
    'src/base',
    'src/generated',
    'src/raft',
    'src/wal',
    'src/backend',
    'src/mvcc',
    'src/lease',
    'src/auth',
    'src/server',
    'sim',
  ],
  bench: null,
  test: null,
};
// Which layers may use node:* built-ins and third-party packages.
const nodeAllowed = new Set([
  'src/platform',
  'src/cli',
  'src/transport',
  'src/api/grpc',
  'src/api/http',
  'src/backend',
  'src/wal',
  'bench',
  'test',
  'src/server',
]);
// Real clients and reference codecs that tests drive our server and codecs with.
const testPackages = new Set(['etcd3', '@grpc/grpc-js', 'protobufjs']);
const packageAllowed = { lmdb: ['src/backend'], yaml: ['src/cli'], etcd3: ['test', 'bench'] };

function layerOf(file) {
  const rel = relative(process.cwd(), file).split('\\').join('/');
  const keys = Object.keys(allowed).sort((a, b) => b.length - a.length);
  return keys.find((k) => rel === k || rel.startsWith(k + '/'));
}

function walk(dir, out) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const problems = [];
for (const file of [...walk('src', []), ...walk('sim', []), ...walk('bench', []), ...walk('test', [])]) {
  const from = layerOf(file);
  const isTest = file.endsWith('.test.ts');
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(
    /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) {
      const to = layerOf(resolve(dirname(file), spec));
      if (to === undefined || to === from) continue;
      const ok = allowed[from];
      if (ok !== null && !ok.includes(to)) problems.push(`${file}: ${from} may not import ${to} (${spec})`);
    } else if (spec.startsWith('node:')) {
      const simMain = relative(process.cwd(), file).split('\\').join('/') === 'sim/main.ts';
      if (!isTest && !simMain && !nodeAllowed.has(from))
        problems.push(`${file}: ${from} may not import ${spec}`);
    } else {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      const ok = packageAllowed[pkg];
      if (ok === undefined || !ok.includes(from)) {
        if (!(isTest && testPackages.has(pkg)))
          problems.push(`${file}: ${from} may not import package ${pkg}`);
      }
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('import rules: ok');
