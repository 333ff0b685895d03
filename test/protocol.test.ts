// Contract test, adapter side: the typed protocol in src/agent/protocol.ts names exactly the
// version, requests and events that docs/agent-protocol.md defines.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AGENT_BACKENDS, AGENT_COMMANDS, AGENT_EVENTS, PROTOCOL_VERSION } from '../src/agent/protocol';
import { ROOT } from './support/paths';

const doc = fs.readFileSync(path.join(ROOT, 'docs', 'agent-protocol.md'), 'utf8');

function tableNames(heading: string): string[] {
  const section = doc.slice(doc.indexOf(heading));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| ---')));
  const names = new Set<string>();
  for (const line of table.split('\n').slice(2)) {
    for (const match of (line.split('|')[1] ?? '').matchAll(/`(\w+)`/g)) names.add(match[1]);
  }
  return [...names].sort();
}

test('the protocol version matches the document', () => {
  assert.match(doc, new RegExp(`\\(version ${PROTOCOL_VERSION}\\)`));
  assert.match(doc, new RegExp(`"protocol":${PROTOCOL_VERSION}`));
});

test('the adapter knows every request of the document, and no other', () => {
  // The asyncio table mixes requests and events; its requests add to the main table's.
  const asyncio = tableNames('## Asyncio tasks').filter((name) => !(AGENT_EVENTS as string[]).includes(name));
  assert.deepEqual([...AGENT_COMMANDS].sort(), [...new Set([...tableNames('## Requests'), ...asyncio])].sort());
});

test('the adapter knows every event of the document, and no other', () => {
  assert.deepEqual([...AGENT_EVENTS].sort(), tableNames('## Events'));
});

test('the adapter knows every tracing backend the hello message may name, and no other', () => {
  const values = /"backend":((?:"\w+"\|?)+)/.exec(doc);
  assert.ok(values, 'the hello message in the document lists its backends');
  const documented = [...values[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
  assert.deepEqual([...AGENT_BACKENDS].sort(), documented.sort());
});
