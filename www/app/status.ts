// What the page tells the user: the message list, the unread-files list of
// the Series panel, and the progress bar with the busy state.

import { el } from '../dom';
import type { FileError } from '../protocol';

export type MessageKind = 'error' | 'warning' | 'info';

export class Status {
  private readonly messages = el('messages', HTMLUListElement);
  private readonly unread = el('unread', HTMLUListElement);
  private readonly box = el('progress-box', HTMLDivElement);
  private readonly bar = el('progress', HTMLProgressElement);
  private readonly text = el('progress-text', HTMLLabelElement);

  message(text: string, kind: MessageKind = 'info'): void {
    const li = document.createElement('li');
    li.className = kind;
    li.textContent = text;
    this.messages.append(li);
  }

  clearMessages(): void {
    this.messages.replaceChildren();
  }

  /** Lists per-file errors; many files failing for the same reason become one
   * line. `append`: errors found later (a series' pixels decoded when it is
   * opened) join the list instead of replacing it. */
  reportErrors(errors: FileError[], append = false): void {
    const byMessage = new Map<string, FileError[]>();
    for (const e of errors) byMessage.set(e.message, [...(byMessage.get(e.message) ?? []), e]);
    for (const [msg, list] of byMessage) {
      const first = list[0];
      if (!first) continue;
      if (list.length <= 3) for (const e of list) this.message(describeError(e), 'error');
      else this.message(`${first.file ?? 'a file'} and ${list.length - 1} more files: ${msg}`, 'error');
    }
    const items = errors.map((e) => {
      const li = document.createElement('li');
      li.className = 'error';
      li.textContent = describeError(e);
      return li;
    });
    if (append) this.unread.append(...items);
    else this.unread.replaceChildren(...items);
  }

  progress(done: number, total: number, what: string): void {
    this.bar.max = total;
    this.bar.value = done;
    this.text.textContent = what;
  }

  /** The busy state on the page: body[data-state], the progress box. */
  showBusy(busy: boolean, what: string): void {
    document.body.dataset.state = busy ? 'busy' : 'ready';
    this.box.hidden = !busy;
    this.text.textContent = what;
  }
}

function describeError(e: FileError): string {
  return e.file ? `${e.file}: ${e.message}` : e.message;
}
