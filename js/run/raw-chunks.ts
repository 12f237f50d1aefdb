/**
 * @internal
 * The raw chunks of a model call's stream (`includeRawChunks`) in a durable run's journal. Each is
 * kept with the number of text and reasoning deltas the call had streamed before it, so that a
 * replay puts it back between the same deltas (js/run/host.ts).
 */

/** A raw chunk as journaled: `[deltas streamed before it, its value]`. */
export type RecordedRaw = [deltasBefore: number, rawValue: unknown];

/** Records a live call's raw chunks and counts its deltas. */
export class RawChunkRecorder {
  private readonly raws: RecordedRaw[] = [];
  private deltas = 0;

  /** A text or reasoning delta reached the run's stream. */
  delta(): void {
    this.deltas++;
  }

  /** A raw chunk reached the run's stream. */
  raw(value: unknown): void {
    this.raws.push([this.deltas, value]);
  }

  /**
   * The chunks so far as JSON text (the engine then keeps one string, not a tree of every chunk);
   * undefined when there are none, or when one is not JSON (a custom model's raw value may be
   * anything: its replay then has no raw chunks).
   */
  encoded(): string | undefined {
    if (this.raws.length === 0) return undefined;
    try {
      return JSON.stringify(this.raws);
    } catch {
      return undefined;
    }
  }
}

/**
 * Hands a replayed call's recorded raw chunks to `emit` as its deltas are streamed again: `before(n)`
 * ahead of delta `n` (counting from 0) and of what opens its block, `rest()` after the last one.
 * A journal entry that is not the JSON text of a list of `[count, value]` pairs gives no raw chunks.
 */
export class RawChunkReplay {
  private readonly raws: RecordedRaw[];
  private next = 0;

  constructor(
    recorded: unknown,
    private readonly emit: ((rawValue: unknown) => void) | undefined,
  ) {
    this.raws = emit && typeof recorded === 'string' ? parsed(recorded) : [];
  }

  /** Emits the chunks that came before delta `n`. */
  before(n: number): void {
    while (this.next < this.raws.length && this.raws[this.next][0] <= n) this.emit!(this.raws[this.next++][1]);
  }

  /** Emits the chunks that came after the last delta. */
  rest(): void {
    this.before(Number.MAX_SAFE_INTEGER);
  }
}

function parsed(text: string): RecordedRaw[] {
  let raws: unknown;
  try {
    raws = JSON.parse(text);
  } catch {
    return [];
  }
  return Array.isArray(raws) && raws.every(isRecordedRaw) ? (raws as RecordedRaw[]) : [];
}

function isRecordedRaw(entry: unknown): boolean {
  return Array.isArray(entry) && entry.length === 2 && Number.isSafeInteger(entry[0]) && (entry[0] as number) >= 0;
}
