/**
 * Values by device then point: a reading finds what belongs to its point in look-ups of the two
 * strings it already carries, without building or finding a `device/point` key.
 *
 * Readings come a poll at a time, every point of one device in a row, so the points of the device
 * looked up last are kept at hand (none, for a device without points): the next reading of that
 * device takes one look-up, not two. A device's map of points is made once, by the `set` that
 * keeps it at hand, and never replaced, so what is at hand stays true through every `set` and
 * `delete`.
 */
export class PointMap<T> {
  private readonly byDevice = new Map<string, Map<string, T>>();
  private lastDevice: string | undefined;
  private lastPoints: Map<string, T> | undefined;

  get(device: string, point: string): T | undefined {
    return this.points(device)?.get(point);
  }

  set(device: string, point: string, value: T): void {
    let points = this.points(device);
    if (!points) this.byDevice.set(device, (this.lastPoints = points = new Map<string, T>()));
    points.set(point, value);
  }

  delete(device: string, point: string): void {
    this.points(device)?.delete(point);
  }

  /** The points of `device` and their values, as held (a live view); undefined for none. */
  pointsOf(device: string): ReadonlyMap<string, T> | undefined {
    return this.points(device);
  }

  private points(device: string): Map<string, T> | undefined {
    if (device !== this.lastDevice) {
      this.lastDevice = device;
      this.lastPoints = this.byDevice.get(device);
    }
    return this.lastPoints;
  }
}
