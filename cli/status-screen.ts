/**
 * The live status of a long-running command on a terminal: one frame redrawn in place. Each line is
 * cut to the terminal's width (a wrapped line would make the redraw climb too few lines and leave
 * stacked frames), and log lines are written above the frame, which is then drawn again below them.
 */
export class StatusScreen {
  readonly #out: NodeJS.WriteStream;
  #frame: string[] = [];
  #drawn = 0;

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.#out = out;
  }

  #clear(): string {
    return this.#drawn ? `\x1b[${this.#drawn}A\r\x1b[J` : '';
  }

  #render(): string {
    const width = Math.max(20, (this.#out.columns || 80) - 1);
    this.#drawn = this.#frame.length;
    return this.#frame
      .map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l) + '\n')
      .join('');
  }

  draw(lines: string[]): void {
    const clear = this.#clear();
    this.#frame = lines;
    this.#out.write(clear + this.#render());
  }

  /** A log line above the frame. */
  log(line: string): void {
    const clear = this.#clear();
    this.#out.write(clear + line + (line.endsWith('\n') ? '' : '\n') + this.#render());
  }
}
