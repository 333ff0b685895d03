// `npm run package:vscode`: makes dist/tasklens-X.Y.Z.vsix, the extension with the adapter inside
// it (the compiled adapter, the Python agent and the one runtime package it loads), so that an
// installed extension needs no tasklens checkout. The files are copied into a temporary folder
// first: the .vsix holds exactly what is listed here, whatever else lies in the checkout.
// Needs a built checkout (npm run build).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..', '..');
const EXTENSION_FILES = ['package.json', 'README.md', 'extension.js', 'adapter.js', 'asyncTasks.js', 'processPicker.js'];
// The adapter's only runtime dependency outside Node itself (dist/src requires nothing else).
const RUNTIME_PACKAGES = ['commander'];

function copyTree(from, to, keep) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === '__pycache__' || entry.name === 'tests') continue;
      copyTree(src, dst, keep);
    } else if (keep(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
    }
  }
}

function stage(dir) {
  for (const name of EXTENSION_FILES) fs.copyFileSync(path.join(HERE, name), path.join(dir, name));
  const home = path.join(dir, 'tasklens');
  const main = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${path.relative(ROOT, main)} is missing: run npm run build first`);
  copyTree(path.join(ROOT, 'dist', 'src'), path.join(home, 'dist', 'src'), (n) => n.endsWith('.js'));
  copyTree(path.join(ROOT, 'agent'), path.join(home, 'agent'), (n) => n.endsWith('.py'));
  for (const pkg of RUNTIME_PACKAGES) {
    copyTree(path.join(ROOT, 'node_modules', pkg), path.join(home, 'node_modules', pkg), (n) => !n.endsWith('.md'));
  }
}

async function main() {
  const { version } = JSON.parse(fs.readFileSync(path.join(HERE, 'package.json'), 'utf8'));
  const vsix = path.join(ROOT, 'dist', `tasklens-${version}.vsix`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-vsix-'));
  try {
    stage(dir);
    const { createVSIX } = require('@vscode/vsce');
    // No repository or LICENSE file: vsce would stop to ask about both.
    await createVSIX({ cwd: dir, packagePath: vsix, dependencies: false, allowMissingRepository: true, skipLicense: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`package:vscode: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
