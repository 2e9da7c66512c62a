/**
 * The only host globals @tether/protocol may use, declared for its build
 * (tsconfig.build.json: `lib: ["ES2022"]`, `types: []`).
 *
 * Why not `lib: ["DOM"]`: it would also bring `setTimeout`, `fetch` and global
 * `Request` / `Response` / `Headers` types, so a forgotten import in an HTTP
 * library would silently type-check against the Fetch API. Why not
 * `@types/node`: protocol is sans-I/O and must run anywhere.
 *
 * These are the WHATWG Encoding Standard shapes (https://encoding.spec.whatwg.org/),
 * present in Node.js, Deno, Bun and browsers. Note that `new TextDecoder('latin1')`
 * is windows-1252, not ISO-8859-1: decode obs-text bytes by hand if they matter.
 *
 * Only tsconfig.build.json includes this file; tsconfig.json (typecheck, tests,
 * editor, lint) uses @types/node, whose declarations of the same names differ.
 */
export {};

declare global {
  interface TextEncoderEncodeIntoResult {
    read: number;
    written: number;
  }

  interface TextEncoder {
    readonly encoding: string;
    encode(input?: string): Uint8Array<ArrayBuffer>;
    encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult;
  }

  var TextEncoder: {
    prototype: TextEncoder;
    new (): TextEncoder;
  };

  interface TextDecoderOptions {
    fatal?: boolean;
    ignoreBOM?: boolean;
  }

  interface TextDecodeOptions {
    stream?: boolean;
  }

  interface TextDecoder {
    readonly encoding: string;
    readonly fatal: boolean;
    readonly ignoreBOM: boolean;
    decode(input?: ArrayBufferView | ArrayBuffer, options?: TextDecodeOptions): string;
  }

  var TextDecoder: {
    prototype: TextDecoder;
    new (label?: string, options?: TextDecoderOptions): TextDecoder;
  };
}
