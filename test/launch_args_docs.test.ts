// Every launch and attach argument the adapter reads is in the README's table and in the VS Code
// extension's schema, and nothing else is: the argument names are taken from the parsers
// themselves, by recording which fields they read.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseAttach, parseLaunch } from '../src/session/launchArgs';
import { fixture, ROOT } from './support/paths';

function fieldsRead(parse: (raw: unknown) => unknown, base: Record<string, unknown>): string[] {
  const read = new Set<string>();
  parse(new Proxy(base, { get: (target, key) => {
    if (typeof key === 'string') read.add(key);
    return target[key as string];
  } }));
  return [...read].sort();
}

const launchArgs = fieldsRead(parseLaunch, { program: fixture('basic_add.py') });
const attachArgs = fieldsRead(parseAttach, { connect: { port: 5678 } });

interface Manifest {
  contributes: { debuggers: Array<{ configurationAttributes: Record<string, { properties: Record<string, unknown> }> }> };
}

test('the VS Code schema lists every launch and attach argument', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'editors', 'vscode', 'package.json'), 'utf8')) as Manifest;
  const attrs = manifest.contributes.debuggers[0].configurationAttributes;
  assert.deepEqual(Object.keys(attrs.launch.properties).sort(), launchArgs);
  assert.deepEqual(Object.keys(attrs.attach.properties).sort(), attachArgs);
});

test('the README\'s launch table lists every launch argument', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Launch arguments'));
  const rows = [...table.slice(0, table.indexOf('\n\n', table.indexOf('| --- |'))).matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(rows, launchArgs);
  const attach = table.slice(table.indexOf('`attach` takes'), table.indexOf('\n\n', table.indexOf('`attach` takes')));
  for (const a of attachArgs) assert.ok(attach.includes(`\`${a}`), `${a} in: ${attach}`);
});
