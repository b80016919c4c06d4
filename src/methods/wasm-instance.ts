/**
 * Instances of a WebAssembly kernel whose memory is imported and sized by the caller. A larger
 * slice gets a new memory and instance rather than a grown one, since growing detaches the old
 * buffer, and the first detached ArrayBuffer in a process makes V8 check every typed array access
 * from then on.
 */
export interface KernelInstance<Exports> {
  readonly exports: Exports;
  readonly bytes: number;
  readonly float64: Float64Array;
  readonly float32: Float32Array;
}

const PAGE = 65536;
/** The most memory a kernel is given: 2 GiB, with room to spare below WebAssembly's 4 GiB. */
export const KERNEL_MAX_BYTES = 2 ** 31;

/** A function giving an instance of the kernel (base64 bytes) whose memory holds at least `bytes`, kept for the next call. */
export function kernelInstances<Exports>(base64: string): (bytes: number) => KernelInstance<Exports> {
  let compiled: WebAssembly.Module | undefined;
  let instance: KernelInstance<Exports> | undefined;
  return (bytes) => {
    if (instance !== undefined && instance.bytes >= bytes) return instance;
    compiled ??= new WebAssembly.Module(Buffer.from(base64, 'base64'));
    // Room for half as much again, so that slices of slowly growing lengths do not each make one.
    const pages = Math.ceil(Math.min(bytes * 1.5, KERNEL_MAX_BYTES) / PAGE);
    const memory = new WebAssembly.Memory({ initial: pages });
    const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Exports;
    instance = { exports, bytes: pages * PAGE, float64: new Float64Array(memory.buffer), float32: new Float32Array(memory.buffer) };
    return instance;
  };
}
