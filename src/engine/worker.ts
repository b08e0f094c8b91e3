// Engine worker entry (implementation in progress).
export {};
