// The run state changes only along the transition table beside GATES (src/session/gating.ts).
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Debuggee } from '../src/agent/launcher';
import type { DapConnection } from '../src/dap/connection';
import { GATES, TRANSITIONS, type RunState } from '../src/session/gating';
import { Session } from '../src/session/session';

function session(): Session {
  // Changing state touches neither the connection nor the log.
  return new Session({} as DapConnection, () => undefined, () => undefined);
}

test('a debug session runs its usual course through the table', () => {
  const s = session();
  const course: RunState[] = ['starting', 'configuring', 'running', 'stopped', 'running', 'stopped', 'starting', 'configuring', 'running', 'ended'];
  for (const next of course) {
    s.setState(next);
    assert.equal(s.state, next);
  }
});

test('a change the table does not list is refused and leaves the state as it was', () => {
  const s = session();
  assert.throws(() => s.setState('stopped'), /the run state cannot go from idle to stopped/);
  assert.equal(s.state, 'idle');
  s.setState('starting');
  s.setState('configuring');
  assert.throws(() => s.setState('idle'), /from configuring to idle/);
  s.setState('running');
  assert.throws(() => s.setState('configuring'), /from running to configuring/);
  s.setState('ended');
  assert.throws(() => s.setState('running'), /from ended to running/);
  assert.equal(s.state, 'ended');
});

test('staying in the same state is no change', () => {
  const s = session();
  s.setState('idle');
  assert.equal(s.state, 'idle');
});

test('every state a gate names can be reached from idle', () => {
  const reached = new Set<RunState>(['idle']);
  for (let grew = true; grew;) {
    grew = false;
    for (const from of [...reached]) {
      for (const to of TRANSITIONS[from]) {
        if (!reached.has(to)) {
          reached.add(to);
          grew = true;
        }
      }
    }
  }
  for (const [command, states] of Object.entries(GATES)) {
    for (const state of states) assert.ok(reached.has(state), `${command} is legal in ${state}, which nothing reaches`);
  }
});

test('an agent event that asks for a change the table refuses is logged, and the adapter lives on', () => {
  const notes: unknown[] = [];
  const sent: string[] = [];
  const conn = { sendEvent: (event: string) => sent.push(event) } as unknown as DapConnection;
  const s = new Session(conn, (_channel, direction, message) => direction === 'note' && notes.push(message), () => undefined);
  const client = new EventEmitter();
  s.adopt({ client, exited: new Promise(() => undefined) } as unknown as Debuggee);
  client.emit('continued', { threadId: 1 });
  assert.equal(s.state, 'idle');
  assert.deepEqual(notes, ['the run state cannot go from idle to running']);
  assert.deepEqual(sent, ['continued'], 'the client still hears of the event');
});
