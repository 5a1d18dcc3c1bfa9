/**
 * Orders live events against REST snapshots so a refetch never shows stale or duplicated state.
 *
 * While any refresh is in flight, live events are held back; when a snapshot arrives it is applied, then
 * every held event is replayed in arrival order. Whole-entity events are idempotent, so replaying ones the
 * snapshot already contains ends at the newest state; text deltas are not, and the reducer ignores them for
 * parts the snapshot caught mid-stream until the next whole part update (see `reducer.ts`).
 *
 * The stream must already be connected when a refresh starts (call {@link ChatSync.refresh} from the
 * stream's `onOpen`), so no event between the snapshot and the replay can be missed.
 */
import type { ChatAction } from "./reducer.ts";

/** Routes events and snapshot actions to `dispatch` in a safe order. */
export class ChatSync {
  private pending = 0;
  private held: ChatAction[] = [];

  /** @param dispatch receives actions in the order they must be applied (a batch at a time). */
  constructor(private readonly dispatch: (actions: ChatAction[]) => void) {}

  /** True while a refresh is in flight (events are being held). */
  get refreshing(): boolean {
    return this.pending > 0;
  }

  /** A live event from the stream: applied now, or held while a refresh is running. */
  event(action: ChatAction): void {
    if (this.pending > 0) this.held.push(action);
    else this.dispatch([action]);
  }

  /**
   * Runs `load` (REST fetches answering snapshot actions) with live events held, then applies the
   * snapshot and replays the held events. Overlapping refreshes hold events until the last one ends.
   * If `load` throws, held events are still released and the error is rethrown.
   */
  async refresh(load: () => Promise<ChatAction[]>): Promise<void> {
    this.pending++;
    let snapshot: ChatAction[] = [];
    try {
      snapshot = await load();
    } finally {
      this.pending--;
      const batch = snapshot;
      if (this.pending === 0) {
        batch.push(...this.held);
        this.held = [];
      }
      if (batch.length > 0) this.dispatch(batch);
    }
  }
}
