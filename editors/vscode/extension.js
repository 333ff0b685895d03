// The extension's entry: it completes launch configurations before VS Code starts adapter.js
// (without it a program would run in whatever folder VS Code started the adapter in, and F5
// without a launch.json would have nothing to run), and registers the process picker for attach
// by PID and the Async tasks view.
'use strict';
const vscode = require('vscode');
const { registerAsyncTasks } = require('./asyncTasks');
const { pickProcess } = require('./processPicker');

const TYPE = 'tasklens';

/** Before variables are substituted: F5 with no launch.json debugs the Python file in the editor. */
function resolveDebugConfiguration(_folder, config) {
  if (config.type || config.request || config.name) return config;
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'python') return config;
  return { type: TYPE, request: 'launch', name: 'tasklens: current file', program: '${file}', justMyCode: true };
}

/**
 * After substitution, so `program` is a real path: a launch without `cwd` runs in its workspace
 * folder (the one of the configuration, else the one holding the program).
 * Outside any folder the adapter runs the program in the program's own folder.
 */
function resolveDebugConfigurationWithSubstitutedVariables(folder, config) {
  if (config.request !== 'launch' || config.cwd !== undefined) return config;
  const owner = folder ?? (typeof config.program === 'string'
    ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(config.program)) : undefined);
  return owner ? { ...config, cwd: owner.uri.fsPath } : config;
}

function activate(context) {
  context.subscriptions.push(vscode.debug.registerDebugConfigurationProvider(TYPE, {
    resolveDebugConfiguration,
    resolveDebugConfigurationWithSubstitutedVariables,
  }));
  context.subscriptions.push(vscode.commands.registerCommand('tasklens.pickProcess', pickProcess));
  registerAsyncTasks(context);
}

module.exports = { activate };
