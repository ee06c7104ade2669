// A background job that works in rounds (the webhook dispatcher, the expiry reminders): the next round
// starts at once while the last one reported a full batch (more may be waiting), else after `pollMs`; a
// failed round is logged and retried after `pollMs`. Stopping lets the round under way finish.

export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private halted = false;

  constructor(
    /** One round; true when its batch was full. */
    private readonly round: () => Promise<boolean>,
    private readonly pollMs: number,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** True once stop() began: a round under way ends early where it can. */
  get stopped(): boolean {
    return this.halted;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.halted = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.halted) return;
    this.timer = setTimeout(() => {
      this.current = this.round()
        .catch((error: unknown) => {
          this.failed(error);
          return false;
        })
        .then((full) => this.schedule(full ? 0 : this.pollMs));
    }, delayMs);
    this.timer.unref();
  }
}
