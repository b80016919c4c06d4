// The part of the WebAssembly JavaScript API the closed-form kernel uses. Node has it as a global,
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
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
