// The part of the WebAssembly JavaScript API the kernels use. Node has it as a global,
// but its declarations live in TypeScript's "dom" library, which would bring in browser globals.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: object;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
