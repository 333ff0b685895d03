// Drives VS Code's workbench in Debian's Chromium the way a person does, with clicks and keys,
// and reads back what is on screen. The selectors are VS Code's own DOM classes and ARIA
// attributes (checked against VS Code 1.139, the one code-server 4.139 serves).
import * as path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM } from './codeServer';

// Without the background-networking switches Chromium keeps calling hosts this machine cannot reach.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const WAIT_MS = 30_000;
// Gutter glyphs; a breakpoint on the line where the program stands shows as one glyph for both.
const BREAKPOINT = '.codicon-debug-breakpoint, .codicon-debug-breakpoint-stackframe';
const TOP_FRAME = '.codicon-debug-stackframe, .codicon-debug-breakpoint-stackframe';

export class Workbench {
  private constructor(readonly context: BrowserContext, readonly page: Page, readonly shots: string) {}

  static async open(url: string, profile: string, shots: string): Promise<Workbench> {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1500, height: 1150 },
    });
    const page = context.pages()[0] ?? await context.newPage();
    // F5 is also the browser's reload: pressed before the workbench listens, it would reload the page.
    await page.addInitScript(() => window.addEventListener('keydown', (e) => {
      if (e.key === 'F5') e.preventDefault();
    }, true));
    await page.goto(url);
    await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 90_000 });
    return new Workbench(context, page, shots);
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(this.shots, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The texts of the notifications and dialogs on screen (an error of the session shows there). */
  async notices(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-toast, .dialog-box').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  /** Drags the side bar's edge to the right: task names and where they wait are long. */
  async widenSideBar(by: number): Promise<void> {
    const bar = await this.page.locator('.part.sidebar').boundingBox();
    if (!bar) throw new Error('no side bar');
    const [x, y] = [bar.x + bar.width + 1, bar.y + bar.height / 2];
    await this.page.mouse.move(x, y);
    await this.page.mouse.down();
    await this.page.mouse.move(x + by, y, { steps: 10 });
    await this.page.mouse.up();
  }

  async openFile(name: string): Promise<void> {
    await this.page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).click({ timeout: 60_000 });
    await this.page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: WAIT_MS });
  }

  private lineNumber(line: number): Locator {
    return this.page.locator('.monaco-editor .margin-view-overlays .line-numbers').getByText(String(line), { exact: true });
  }

  /**
   * Sets (or removes) the breakpoint on line N by clicking the gutter left of it, again if the
   * first click came before VS Code knew that Python files take breakpoints (the extension says so).
   */
  async toggleBreakpoint(line: number, present: boolean): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while ((await this.glyphAt(BREAKPOINT, line)) !== present) {
      if (Date.now() > deadline) throw new Error(`clicking the gutter never ${present ? 'set' : 'removed'} the breakpoint at line ${line}`);
      const number = await this.lineNumber(line).boundingBox();
      const margin = await this.page.locator('.monaco-editor .glyph-margin').first().boundingBox();
      if (!number || !margin) throw new Error(`line ${line} is not on screen`);
      await this.page.mouse.click(margin.x + margin.width / 2, number.y + number.height / 2);
      await this.page.waitForTimeout(1000);
    }
  }

  /** Whether a gutter glyph matching the selector stands on line N. */
  private async glyphAt(glyph: string, line: number): Promise<boolean> {
    const number = await this.lineNumber(line).boundingBox();
    if (!number) return false;
    for (const box of await Promise.all((await this.page.locator('.monaco-editor').locator(glyph).all()).map((g) => g.boundingBox()))) {
      if (box && Math.abs(box.y + box.height / 2 - (number.y + number.height / 2)) < number.height / 2) return true;
    }
    return false;
  }

  /** Waits until the editor shows the program's current line (the top frame's) at line N. */
  async waitForCurrentLine(line: number): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await this.glyphAt(TOP_FRAME, line))) {
      if (Date.now() > deadline) throw new Error(`the editor never showed the program at line ${line}`);
      await this.page.waitForTimeout(200);
    }
  }

  async showRunAndDebug(): Promise<void> {
    await this.page.locator('.activitybar .action-item a[aria-label^="Run and Debug"]').click();
    await this.page.locator('.start-debug-action-item').waitFor({ timeout: WAIT_MS });
  }

  /** Opens a file of the workspace with Quick Open (Ctrl+P, its name, Enter). */
  async showFile(name: string): Promise<void> {
    // A click on a row while Quick Open still fills its list can be lost (seen once in CI under
    // load: the tab never came forward): the pick is made again, up to three times.
    for (let attempt = 1; ; attempt++) {
      await this.openQuickPick('Control+P');
      await this.page.keyboard.type(name);
      // The file may be listed twice: recently opened, and found by name.
      await this.quickPickRow(name).first().click({ timeout: WAIT_MS });
      try {
        await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: attempt < 3 ? 10_000 : WAIT_MS });
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        await this.page.keyboard.press('Escape');
      }
    }
  }

  /** Presses the key and waits for its Quick Pick: keys typed before it shows would go to the editor. */
  async openQuickPick(key: string): Promise<void> {
    await this.press(key);
    await this.page.locator('.quick-input-widget .quick-input-box input').waitFor({ timeout: WAIT_MS });
  }

  /** A row of the open Quick Pick (command palette, Quick Open, a picker of the extension). */
  quickPickRow(text: string): Locator {
    return this.page.locator('.quick-input-widget .monaco-list-row', { hasText: text });
  }

  /**
   * Makes a configuration of launch.json the one F5 starts: picked in Run and Debug's drop-down,
   * opened again if it closed before the pick (the view redraws it while the workbench settles).
   */
  async selectConfiguration(name: string): Promise<void> {
    const label = this.page.locator('.start-debug-action-item-label');
    const entry = this.page.locator(`.context-view .monaco-list-row[aria-label="${name}"]`);
    const deadline = Date.now() + WAIT_MS;
    while ((await label.innerText()).trim() !== name) {
      if (Date.now() > deadline) throw new Error(`the drop-down never made ${name} the configuration F5 starts`);
      if (!(await entry.isVisible())) await this.page.locator('.start-debug-action-item-dropdown-label').click();
      await entry.click({ timeout: 3000 }).catch(() => undefined);
      await this.page.waitForTimeout(200);
    }
  }

  /**
   * F5 on an attach by PID configuration: the extension's process picker opens, and typing
   * narrows it to the one process whose command line has `filter`; returns that row's text.
   */
  async pickProcess(filter: string): Promise<string> {
    await this.openQuickPick('F5');
    await this.page.keyboard.type(filter);
    const row = this.quickPickRow(filter);
    await row.waitFor({ timeout: WAIT_MS });
    return (await row.innerText()).replace(/\s+/g, ' ');
  }

  /** F5, as a person would press it again if nothing happened the first time. */
  async startDebugging(): Promise<void> {
    const toolbar = this.page.locator('.debug-toolbar');
    for (let attempt = 0; ; attempt++) {
      await this.press('F5');
      try {
        await toolbar.waitFor({ timeout: 15_000 });
        return;
      } catch (err) {
        if (attempt === 2) throw err;
      }
    }
  }

  /** Waits until the program is stopped with its top frame on line N, as the editor shows it. */
  async waitStoppedAt(line: number, timeout = WAIT_MS): Promise<void> {
    await this.page.locator('.debug-top-stack-frame-line').first().waitFor({ timeout });
    await this.waitForCurrentLine(line);
  }

  private paneHeader(title: string): Locator {
    return this.page.locator('.pane-header', { has: this.page.locator('h3.title', { hasText: new RegExp(`^${title}$`, 'i') }) });
  }

  /** A view (pane) of the side bar by its title, opened if it was collapsed. */
  async view(title: string): Promise<Locator> {
    const header = this.paneHeader(title);
    await header.waitFor({ timeout: WAIT_MS });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return this.page.locator('.pane', { has: header }).locator('.pane-body');
  }

  /** Folds views away, to give the others room: a list draws only the rows that fit. */
  async foldViews(...titles: string[]): Promise<void> {
    for (const title of titles) {
      const header = this.paneHeader(title);
      if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
    }
  }

  /**
   * The rows of a view as shown: text and tree depth, read at one instant (lists redraw often).
   * A thread's state ("Paused on breakpoint") is hidden by VS Code's stylesheet while the mouse
   * hovers its row (the row's buttons take its place), so it is read from the element itself:
   * where the mouse rests after a click must not change what the view is said to show.
   */
  async rows(view: Locator): Promise<{ text: string; level: number }[]> {
    const rows = await view.locator('.monaco-list-row').evaluateAll((els) =>
      els.map((e) => {
        const row = e as HTMLElement;
        const state = row.querySelector<HTMLElement>('.state.label');
        const hidden = state && getComputedStyle(state).display === 'none' ? ` ${state.textContent ?? ''}` : '';
        return { text: row.innerText + hidden, level: Number(row.getAttribute('aria-level') ?? 0) };
      }));
    return rows.map((r) => ({ text: r.text.replace(/\s+/g, ' ').trim(), level: r.level }));
  }

  /** Waits until some row of the view matches. */
  async waitForRow(view: Locator, match: RegExp): Promise<{ text: string; level: number }> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = (await this.rows(view)).find((r) => match.test(r.text));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no row matching ${match} in the view; rows: ${JSON.stringify(await this.rows(view))}`);
      await this.page.waitForTimeout(200);
    }
  }

  /** Types an expression into the Debug Console's input and returns the console's rows after it. */
  async evaluate(expression: string, expect: RegExp): Promise<string> {
    await this.page.locator('.repl-input-wrapper .monaco-editor').click();
    await this.page.keyboard.type(expression);
    await this.press('Enter');
    const repl = this.page.locator('.repl');
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const text = (await repl.locator('.monaco-list-row').allInnerTexts()).join('\n');
      if (expect.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the Debug Console never showed ${expect}; it shows:\n${text}`);
      await this.page.waitForTimeout(200);
    }
  }
}
