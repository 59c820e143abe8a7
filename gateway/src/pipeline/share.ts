/**
 * Half-open admission: lets a fixed share of the requests offered through, deterministically
 * (never more than `percent` of those offered so far, and always the first), so a recovering
 * backend sees real traffic at once without the whole load, and at low traffic nobody waits
 * for a random draw to come up.
 */
export class HalfOpenShare {
  private offered = 0;
  private admitted = 0;
  private readonly percent: number;

  constructor(percent: number) {
    this.percent = percent;
  }

  admit(): boolean {
    this.offered++;
    if (this.admitted * 100 < this.percent * this.offered || this.admitted === 0) {
      this.admitted++;
      return true;
    }
    return false;
  }

  reset(): void {
    this.offered = 0;
    this.admitted = 0;
  }
}
