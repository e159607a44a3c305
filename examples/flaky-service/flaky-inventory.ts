/** An in-process stand-in for a remote service that fails transiently. */
export class FlakyInventory {
  private calls = 0;

  constructor(
    /** how many calls fail before it recovers */
    private readonly failuresBeforeRecovery: number,
  ) {}

  async stockOf(sku: string): Promise<number> {
    this.calls++;
    if (this.calls <= this.failuresBeforeRecovery) {
      throw new Error(`inventory timed out (call ${this.calls})`);
    }
    return sku.length * 7;
  }

  get callCount(): number {
    return this.calls;
  }
}
