// Bounds the pickle VM enforces, so that absurd or hostile input fails with a message
// instead of exhausting memory or the call stack. Independently of these, a string claiming
// more bytes than the file holds is refused before anything is allocated (reader.ts).

export const PICKLE_LIMITS = {
  /** Nesting depth of containers and of MARKs. Python's own pickler stops near 1000. */
  maxDepth: 1000,
  /** Memo entries. */
  maxMemo: 1_000_000,
  /** Stack entries. */
  maxStack: 10_000_000,
  /** Characters of a protocol-0 numeric line (INT, LONG, FLOAT, GET, PUT). */
  maxNumberLine: 4096,
  /** Bytes of a LONG1/LONG4 integer. */
  maxLongBytes: 4096,
  /** BINUNICODE strings longer than this stay UTF-8 bytes (PyLargeText). */
  largeText: 1 << 20,
  /** Longest JS string we decode (V8's limit is about 2^29). */
  maxJsString: (1 << 29) - 64,
};
