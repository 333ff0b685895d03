// `tasklens.pickProcess`, the value of "processId": "${command:tasklens.pickProcess}" in an attach
// configuration: the running Python programs with their command lines, to pick one from. Read
// from /proc because tasklens debugs on Linux only; a process that ends while being read is left out.
'use strict';
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

const LONGEST_LABEL = 160;

function readArgv(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

function readExe(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** A program is Python when its executable, or the interpreter named in argv[0], is one. */
function isPython(exe, argv) {
  const names = [path.basename(exe), path.basename(argv[0] ?? '')];
  return names.some((n) => /^python(\d+(\.\d+)?)?$/.test(n));
}

/** Every Python process but our own, newest first. */
function pythonProcesses() {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = readArgv(entry);
    const exe = readExe(entry);
    if (argv.length > 0 && isPython(exe, argv)) found.push({ pid: Number(entry), argv, exe });
  }
  return found.sort((a, b) => b.pid - a.pid);
}

/** The interpreter's name and the program's words first: a full path would push them out of sight. */
function toItem(p) {
  const words = [path.basename(p.exe || p.argv[0]), ...p.argv.slice(1)].join(' ');
  return {
    label: words.length > LONGEST_LABEL ? `${words.slice(0, LONGEST_LABEL - 1)}…` : words,
    description: `PID ${p.pid}`,
    detail: p.argv.join(' '),
    pid: p.pid,
  };
}

/** The picked PID as a string (what the attach configuration receives), or undefined to cancel. */
async function pickProcess() {
  const items = pythonProcesses().map(toItem);
  if (items.length === 0) {
    void vscode.window.showErrorMessage('tasklens: no Python process is running to attach to.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Attach tasklens to a Python process',
    placeHolder: 'Type part of a command line or a PID',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked ? String(picked.pid) : undefined;
}

module.exports = { pickProcess };
