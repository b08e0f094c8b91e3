// bn-inspect (implementation in progress).
export {};
