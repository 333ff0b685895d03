// VS Code starts this file with its own Node runtime; it runs `tasklens dap` on stdio.
// TASKLENS_HOME points at a tasklens checkout; by default this folder sits inside one.
'use strict';
const path = require('path');

const home = process.env.TASKLENS_HOME || path.resolve(__dirname, '..', '..');
process.argv = [process.argv[0], path.join(home, 'dist', 'src', 'cli', 'main.js'), 'dap'];
require(path.join(home, 'dist', 'src', 'cli', 'main.js'));
