/** k6/data's SharedArray: built once from `make`, handed out as copies. */
export class SharedArray<T> {
  constructor(_name: string, make: () => T[]) {
    // biome-ignore lint/correctness/noConstructorReturn: mirrors k6, whose SharedArray is array-like
    return make().map((item) => structuredClone(item)) as unknown as SharedArray<T>;
  }
}
