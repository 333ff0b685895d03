// The "Async tasks" view in Run and Debug: the await tree of the program being debugged, the
// picture of an asyncio program that the Call Stack's flat thread list cannot give. Read with the
// adapter's `tasklens/taskTable` request each time the program stops, and on Refresh (which works
// while it runs too). Under each task: its stack (folded; innermost first), then the tasks that it
// awaits. Selecting a task unfolds its stack and opens its innermost line in the user's files; a frame
// opens its own.
'use strict';
const path = require('path');
const vscode = require('vscode');

const TASK_TABLE = 'tasklens/taskTable';
// Requests after which the table on show no longer describes the program.
const RESUMING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'reverseContinue', 'stepBack', 'goto']);

/** The innermost frame in the user's own files (a workspace folder), else the innermost. */
function whereItWaits(task) {
  return task.stack.find((f) => vscode.workspace.getWorkspaceFolder(vscode.Uri.file(f.path)) !== undefined) ?? task.stack[0];
}

function openLine(frame) {
  const line = Math.max(0, frame.line - 1);
  return vscode.window.showTextDocument(vscode.Uri.file(frame.path), {
    selection: new vscode.Range(line, 0, line, 0),
    preview: true,
    preserveFocus: true,
  });
}

class AsyncTasksView {
  constructor() {
    this.changed = new vscode.EventEmitter();
    this.onDidChangeTreeData = this.changed.event;
    this.session = undefined;
    this.tasks = [];
    this.stoppedThread = undefined;
    this.tree = [];
    this.note = 'Start a tasklens debug session: its asyncio tasks show here when it stops.';
    // Answers for an older stop are dropped: the program may have moved on since.
    this.generation = 0;
  }

  async refresh(session, stoppedThread) {
    const generation = ++this.generation;
    this.session = session;
    if (stoppedThread !== undefined) this.stoppedThread = stoppedThread;
    let body;
    try {
      body = await session.customRequest(TASK_TABLE);
    } catch (err) {
      if (generation === this.generation) this.show(`Cannot read the tasks: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (generation !== this.generation) return;
    const tasks = Array.isArray(body?.tasks) ? body.tasks : [];
    this.show(tasks.length === 0 ? 'No asyncio task is alive.' : undefined, tasks);
  }

  running(session) {
    if (session !== this.session) return;
    this.generation++;
    this.stoppedThread = undefined;
    this.show('Running. Pause, stop at a breakpoint, or Refresh to read the tasks now.');
  }

  ended(session) {
    if (session !== this.session) return;
    this.generation++;
    this.session = undefined;
    this.show('The debug session has ended.');
  }

  /** Tasks nothing awaits, then any left unreached (tasks that await each other in a cycle). */
  rootTasks() {
    const ids = new Set(this.tasks.map((t) => t.threadId));
    const roots = this.tasks.filter((t) => !t.awaitedBy.some((id) => ids.has(id)));
    const reached = new Set();
    const mark = (t) => {
      if (reached.has(t.threadId)) return;
      reached.add(t.threadId);
      for (const c of this.tasks) if (c.awaitedBy.includes(t.threadId)) mark(c);
    };
    roots.forEach(mark);
    for (const t of this.tasks) {
      if (!reached.has(t.threadId)) {
        roots.push(t);
        mark(t);
      }
    }
    return roots;
  }

  /**
   * The whole tree at once, each node knowing its parent (revealing a node needs the way up).
   * A task's children: its stack, folded, then the tasks that it awaits.
   */
  build() {
    const node = (task, parent, trail) => {
      const id = `${trail.join('/')}`;
      const me = { kind: 'task', task, parent, id, children: [] };
      const stack = { kind: 'stack', task, parent: me, id: `${id}:stack`, children: [] };
      stack.children = task.stack.map((frame, i) => ({ kind: 'frame', frame, parent: stack, id: `${id}:${i}`, children: [] }));
      me.stack = stack;
      me.children = [stack, ...this.tasks
        .filter((t) => t.awaitedBy.includes(task.threadId) && !trail.includes(t.threadId))
        .map((t) => node(t, me, [...trail, t.threadId]))];
      return me;
    };
    this.tree = this.rootTasks().map((t) => node(t, undefined, [t.threadId]));
  }

  show(note, tasks = []) {
    this.note = note;
    this.tasks = tasks;
    this.build();
    this.changed.fire(undefined);
  }

  getChildren(element) {
    if (!element) return this.note ? [{ kind: 'note', text: this.note }] : this.tree;
    return element.children ?? [];
  }

  getParent(element) {
    return element.parent;
  }

  getTreeItem(element) {
    if (element.kind === 'note') return new vscode.TreeItem(element.text);
    if (element.kind === 'stack') return this.stackItem(element);
    if (element.kind === 'frame') return this.frameItem(element);
    return this.taskItem(element);
  }

  taskItem({ task, id, children }) {
    const stopped = task.threadId === this.stoppedThread;
    const state = task.state === 'pending' && task.waitingOn ? `waits on ${task.waitingOn}` : task.state;
    const item = new vscode.TreeItem(task.name, children.length > 1
      ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `task:${id}`;
    item.description = `${task.coroutine}${stopped ? ' · stopped here' : ''} · ${state}`;
    item.tooltip = `Task ${task.name}: ${task.coroutine}, ${state}${task.ageSeconds !== undefined ? `, ${task.ageSeconds.toFixed(1)} s old` : ''}`
      + (task.createdAt ? `\ncreated at ${task.createdAt.path}:${task.createdAt.line}` : '');
    item.iconPath = new vscode.ThemeIcon(stopped ? 'debug-stackframe' : 'symbol-event');
    item.contextValue = 'task';
    return item;
  }

  stackItem({ task, id }) {
    const item = new vscode.TreeItem('stack', task.stack.length > 0
      ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `stack:${id}`;
    const where = whereItWaits(task);
    item.description = where ? `${where.name} ${path.basename(where.path)}:${where.line}` : 'no frames';
    item.iconPath = new vscode.ThemeIcon('layers');
    return item;
  }

  frameItem({ frame, id }) {
    const item = new vscode.TreeItem(frame.name, vscode.TreeItemCollapsibleState.None);
    item.id = `frame:${id}`;
    item.description = `${path.basename(frame.path)}:${frame.line}`;
    item.tooltip = `${frame.path}:${frame.line}`;
    item.iconPath = new vscode.ThemeIcon('debug-stackframe-dot');
    item.command = { command: 'tasklens.openFrame', title: 'Open', arguments: [frame] };
    return item;
  }
}

/** Registers the view, its commands and the tracker that tells it when the program stops. */
function registerAsyncTasks(context) {
  const view = new AsyncTasksView();
  const tree = vscode.window.createTreeView('tasklens.asyncTasks', { treeDataProvider: view, showCollapseAll: true });
  context.subscriptions.push(
    tree,
    tree.onDidChangeSelection((e) => {
      const [picked] = e.selection;
      if (picked?.kind !== 'task') return;
      void tree.reveal(picked.stack, { expand: true, select: false, focus: false });
      const where = whereItWaits(picked.task);
      if (where) void openLine(where);
    }),
    vscode.commands.registerCommand('tasklens.openFrame', (frame) => openLine(frame)),
    vscode.commands.registerCommand('tasklens.refreshTasks', () => {
      const session = view.session ?? vscode.debug.activeDebugSession;
      if (session?.type === 'tasklens') return view.refresh(session);
      return undefined;
    }),
    vscode.debug.registerDebugAdapterTrackerFactory('tasklens', {
      createDebugAdapterTracker: (session) => ({
        onWillReceiveMessage: (m) => {
          if (m.type === 'request' && RESUMING.has(m.command)) view.running(session);
        },
        onDidSendMessage: (m) => {
          if (m.type !== 'event') return;
          if (m.event === 'stopped') void view.refresh(session, m.body?.threadId);
          else if (m.event === 'continued') view.running(session);
        },
      }),
    }),
    vscode.debug.onDidTerminateDebugSession((session) => view.ended(session)),
  );
}

module.exports = { registerAsyncTasks };
