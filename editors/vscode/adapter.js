// VS Code starts this file with its own Node runtime; it runs `tasklens dap` on stdio.
// The adapter is found, in order: TASKLENS_HOME (a tasklens checkout or install), the copy
// bundled inside the packaged extension (./tasklens, made by pack.js), the checkout this folder
// sits in (editors/vscode, for working on the extension itself).
'use strict';
const fs = require('fs');
const path = require('path');

function tasklensHome() {
  if (process.env.TASKLENS_HOME) return process.env.TASKLENS_HOME;
  const bundled = path.join(__dirname, 'tasklens');
  return fs.existsSync(bundled) ? bundled : path.resolve(__dirname, '..', '..');
}

const main = path.join(tasklensHome(), 'dist', 'src', 'cli', 'main.js');
process.argv = [process.argv[0], main, 'dap'];
require(main);
